/*
 * files.c — serving the dashboard's embedded files (assets.h).
 *
 * GET / is web/index.html, GET /assets/{path} any other file under web/.
 * They need no token: the files hold no data; the page asks for a token
 * and calls the API with it.
 *
 * Each answer carries the file's ETag and Cache-Control: no-cache, so a
 * browser revalidates every time and gets 304 Not Modified (no body) while
 * the file is unchanged: one round trip, never a stale dashboard after an
 * upgrade. A client whose Accept-Encoding takes gzip gets the gzipped bytes
 * (Content-Encoding: gzip) when the type compresses; such files always say
 * Vary: Accept-Encoding, so caches keep the two forms apart. Every file is
 * sent with X-Content-Type-Options: nosniff, and the HTML with a Content-
 * Security-Policy that allows only the server's own scripts, styles and API.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "http/assets.h"
#include "http/http.h"

#define FILES_CACHE_CONTROL "no-cache"
#define FILES_CSP                                                                          \
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "     \
    "connect-src 'self'; frame-ancestors 'none'"
#define FILES_HEADER_TOKENS_MAX 64 /* codings or ETags read from one header */

/* The embedded file served at path, or NULL. */
static const struct http_asset *file_find(const char *path)
{
    for (size_t i = 0; i < http_assets_count; i++)
        if (strcmp(http_assets[i].path, path) == 0) return &http_assets[i];
    return NULL;
}

/* The next comma-separated element of a header: its start and length; false at the end. */
static bool header_next(const char **cursor, const char **start, size_t *length)
{
    const char *p = *cursor;
    while (*p == ' ' || *p == '\t' || *p == ',') p++;
    if (*p == '\0') return false;
    const char *end = strchr(p, ',');
    if (end == NULL) end = p + strlen(p);
    size_t n = (size_t)(end - p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    *start = p;
    *length = n;
    *cursor = end;
    return true;
}

/* Does a coding's parameters (";q=0.5") hold q=0, which refuses it? */
static bool coding_refused(const char *params, size_t length)
{
    for (size_t i = 0; i + 1 < length; i++) {
        if ((params[i] == 'q' || params[i] == 'Q') && params[i + 1] == '=') {
            for (size_t j = i + 2; j < length && params[j] != ';'; j++)
                if (params[j] >= '1' && params[j] <= '9') return false;
            return true;
        }
    }
    return false;
}

/* Does Accept-Encoding take gzip (by name or by "*", and not with q=0)? */
static bool accepts_gzip(const char *header)
{
    if (header == NULL) return false;
    bool named = false, star = false;
    const char *cursor = header, *element;
    size_t length;
    for (int n = 0; n < FILES_HEADER_TOKENS_MAX && header_next(&cursor, &element, &length);
         n++) {
        size_t name = 0;
        while (name < length && element[name] != ';' && element[name] != ' ') name++;
        bool refused = coding_refused(element + name, length - name);
        if (name == 4 && strncasecmp(element, "gzip", 4) == 0) {
            if (refused) return false; /* gzip;q=0 refuses it whatever "*" says */
            named = true;
        } else if (name == 1 && element[0] == '*') {
            star = !refused;
        }
    }
    return named || star;
}

/* Does If-None-Match name etag (weak comparison: a W/ prefix does not matter) or "*"? */
static bool etag_matches(const char *header, const char *etag)
{
    if (header == NULL) return false;
    size_t etag_length = strlen(etag);
    const char *cursor = header, *element;
    size_t length;
    for (int n = 0; n < FILES_HEADER_TOKENS_MAX && header_next(&cursor, &element, &length);
         n++) {
        if (length == 1 && element[0] == '*') return true;
        if (length > 2 && strncmp(element, "W/", 2) == 0) {
            element += 2;
            length -= 2;
        }
        if (length == etag_length && memcmp(element, etag, length) == 0) return true;
    }
    return false;
}

void http_file_answer(struct http_request *request)
{
    const struct http_asset *file = file_find(request->path);
    if (file == NULL) {
        if (strcmp(request->path, "/") == 0)
            http_error(request, 404, "not_found", "this build holds no dashboard "
                                                  "(web/index.html)");
        else
            http_error(request, 404, "not_found", "no file %s", request->path);
        return;
    }
    struct MHD_Connection *c = request->connection;
    const char *match = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_IF_NONE_MATCH);
    const char *encodings = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                        MHD_HTTP_HEADER_ACCEPT_ENCODING);
    request->file = file;
    request->file_gzip = file->gzip != NULL && accepts_gzip(encodings);
    request->status = etag_matches(match, file->etag) ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
}

struct MHD_Response *http_file_response(const struct http_request *request, size_t *length)
{
    const struct http_asset *file = request->file;
    bool modified = request->status != MHD_HTTP_NOT_MODIFIED;
    const unsigned char *body = request->file_gzip ? file->gzip : file->body;
    *length = !modified ? 0 : request->file_gzip ? file->gzip_size : file->size;
    /* The bytes are the binary's own, never freed: no copy. */
    struct MHD_Response *response = MHD_create_response_from_buffer(
        *length, (void *)(modified ? body : (const unsigned char *)""), MHD_RESPMEM_PERSISTENT);
    if (response == NULL) return NULL;
    bool ok = MHD_add_response_header(response, MHD_HTTP_HEADER_ETAG, file->etag) == MHD_YES &&
              MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
                                      FILES_CACHE_CONTROL) == MHD_YES;
    if (ok && file->gzip != NULL)
        ok = MHD_add_response_header(response, MHD_HTTP_HEADER_VARY, "Accept-Encoding") ==
             MHD_YES;
    if (ok && modified) {
        ok = MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, file->mime) ==
                 MHD_YES &&
             MHD_add_response_header(response, "X-Content-Type-Options", "nosniff") == MHD_YES;
        if (ok && request->file_gzip)
            ok = MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") ==
                 MHD_YES;
        if (ok && strncmp(file->mime, "text/html", 9) == 0)
            ok = MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY,
                                         FILES_CSP) == MHD_YES;
    }
    if (!ok) {
        MHD_destroy_response(response);
        return NULL;
    }
    return response;
}
