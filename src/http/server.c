/*
 * server.c — the HTTP server around the route table.
 *
 * libmicrohttpd runs an epoll loop and a pool of worker threads; each request
 * passes through request_handler three ways: once when its headers have
 * arrived (route, method, length and type are checked here, so a bad request
 * is refused before its body is read), once per chunk of body (kept up to
 * HTTP_BODY_BYTES_MAX), and once at the end, when the route's handler runs.
 *
 * Store connections: a pool with one per worker, each used by one request at
 * a time. Reads proceed side by side (SQLite WAL); a route that writes takes
 * the writer lock first, so batches queue in the process rather than spinning
 * on SQLite's busy timeout; a waiting batch holds its worker, so at most
 * threads − HTTP_READ_WORKERS_RESERVED write or wait at once (503 beyond). Due expiries are recorded once a second by the main thread.
 *
 * Tokens: every route but the health check, the OpenAPI document and the
 * dashboard's files needs a bearer token. A verified token is remembered for HTTP_TOKEN_CACHE_MS, in
 * a slot chosen by its public id and matched on its whole text in constant
 * time, so most requests skip the store lookup and the digest; a revoked
 * token is refused within that time, an expired one at once.
 *
 * Stopping: SIGTERM or SIGINT (blocked in every thread, taken by the main
 * thread with sigtimedwait) stops accepting, waits for the requests in flight
 * (up to HTTP_SHUTDOWN_GRACE_S), stops the workers, closes the store, and
 * returns CC_OK.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "app/token.h"
#include "http/http.h"
#include "util/timefmt.h"
#include "util/utf8.h"

#define POOL_SIZE_MAX (HTTP_THREADS_MAX + 1)

/* A token verified recently, and whom it stands for. */
struct token_slot {
    char token[TOKEN_TEXT_BYTES];  /* the whole token text (not NUL-terminated) */
    struct auth_actor actor;
    int64_t verified_ns;           /* monotonic; 0: the slot is empty */
    int64_t expires;               /* the token's own expiry (wall clock), 0: none */
};

struct http_server {
    const struct http_options *options;
    pthread_mutex_t lock;         /* guards the pool and the counters below */
    pthread_cond_t returned;      /* a connection came back to the pool */
    struct concord *pool[POOL_SIZE_MAX];
    uint32_t pool_free;           /* connections in pool[0 .. pool_free) */
    uint32_t in_flight;           /* requests between headers and completion */
    uint32_t writers_waiting;     /* batches writing or waiting for the writer lock */
    uint32_t writers_max;         /* beyond it, 503: a worker stays free for reads */
    pthread_mutex_t writer;       /* held by the one request writing */
    pthread_mutex_t tokens_lock;  /* guards tokens */
    struct token_slot tokens[HTTP_TOKEN_CACHE_SLOTS];
};

/* Per request, from its headers to its completion. */
struct request_state {
    struct http_request request;
    const struct http_route *route;
    char *body;                   /* accumulated upload */
    size_t body_length, body_capacity;
    FILE *spool;                  /* an import route's upload, in an unlinked temporary file */
    uint64_t spool_length;
    bool spool_failed;            /* the temporary file could not be written */
    bool too_large;               /* more than the route's limit arrived */
    bool refused;                 /* refused from its headers */
    bool answered;                /* the answer is queued */
    bool overloaded;              /* 503 for load (Retry-After), not for a broken store */
    int64_t started_ns;
};

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * TIME_NS_PER_SECOND + ts.tv_nsec;
}

/* ---------------------------------------------------------------- the pool */

static struct concord *pool_take(struct http_server *s)
{
    pthread_mutex_lock(&s->lock);
    while (s->pool_free == 0) pthread_cond_wait(&s->returned, &s->lock);
    struct concord *cc = s->pool[--s->pool_free];
    pthread_mutex_unlock(&s->lock);
    return cc;
}

static void pool_give(struct http_server *s, struct concord *cc)
{
    pthread_mutex_lock(&s->lock);
    s->pool[s->pool_free++] = cc;
    pthread_cond_signal(&s->returned);
    pthread_mutex_unlock(&s->lock);
}

/* ---------------------------------------------------------------- answering */

static void access_log(const struct request_state *state, size_t length);
static enum MHD_Result respond_file(struct MHD_Connection *connection,
                                    struct request_state *state);

/* An export: its bytes as they are, in their own media type. */
static enum MHD_Result respond_raw(struct MHD_Connection *connection, struct request_state *state)
{
    struct http_request *r = &state->request;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(r->raw_length, r->raw, MHD_RESPMEM_MUST_FREE);
    if (response == NULL) return MHD_NO;
    size_t length = r->raw_length;
    r->raw = NULL; /* the response owns it now */
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r->raw_type);
    enum MHD_Result result = MHD_queue_response(connection, r->status, response);
    MHD_destroy_response(response);
    access_log(state, length);
    return result;
}

static enum MHD_Result respond(struct MHD_Connection *connection, struct request_state *state)
{
    struct http_request *r = &state->request;
    if (r->file != NULL) return respond_file(connection, state);
    if (r->raw != NULL && r->json == NULL) return respond_raw(connection, state);
    if (r->json == NULL) http_error(r, 500, "internal", "no answer");
    char *text = json_dumps(r->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        static const char fallback[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"the answer could not be encoded\"}}";
        text = strdup(fallback);
        r->status = 500;
    }
    size_t length = text ? strlen(text) : 0;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(length, text, MHD_RESPMEM_MUST_FREE);
    if (response == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (r->status == 405 && r->allow[0] != '\0')
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->status == 401) MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                                  "Bearer realm=\"concord\"");
    if (r->status == 503 && (state->overloaded || r->retry))
        MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    enum MHD_Result result = MHD_queue_response(connection, r->status, response);
    MHD_destroy_response(response);
    access_log(state, length);
    return result;
}

/* Answers with an embedded file (files.c): its bytes are the binary's, sent without a copy. */
static enum MHD_Result respond_file(struct MHD_Connection *connection,
                                    struct request_state *state)
{
    size_t length = 0;
    struct MHD_Response *response = http_file_response(&state->request, &length);
    if (response == NULL) return MHD_NO;
    enum MHD_Result result = MHD_queue_response(connection, state->request.status, response);
    MHD_destroy_response(response);
    access_log(state, length);
    return result;
}

/* One line per answer on stderr: method, path, status, bytes, microseconds. */
static void access_log(const struct request_state *state, size_t length)
{
    const struct http_request *r = &state->request;
    if (!state->request.server->options->quiet) {
        /* The path arrives decoded: re-encode what would break or forge a log line. */
        char path[HTTP_LOG_PATH_BYTES_MAX];
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *)r->path; *p && n + 4 < sizeof path;
             p++) {
            if (*p <= ' ' || *p >= 0x7f || *p == '%')
                n += (size_t)snprintf(path + n, sizeof path - n, "%%%02X", *p);
            else
                path[n++] = (char)*p;
        }
        path[n] = '\0';
        fprintf(stderr, "%s %s %u %zu %lld\n", r->method, path, r->status, length,
                (long long)((monotonic_ns() - state->started_ns) / 1000));
    }
}

static bool request_has_body(struct MHD_Connection *connection)
{
    const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *chunked = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                      MHD_HTTP_HEADER_TRANSFER_ENCODING);
    return chunked != NULL || (length != NULL && strcmp(length, "0") != 0);
}

/* Who runs a route that needs no token: a reader of no party, so it can read no row. */
static void actor_anonymous(struct auth_actor *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->user, sizeof out->user, "anonymous");
    out->role = AUTH_ROLE_VIEWER;
}

/* The bearer token of the Authorization header; NULL after answering 401. */
static const char *bearer_token(struct MHD_Connection *connection, struct http_request *r)
{
    const char *header = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION);
    static const char scheme[] = "Bearer ";
    if (header == NULL) {
        http_error(r, 401, "unauthorized", "this route needs a token: Authorization: Bearer "
                                           "TOKEN (concord token create)");
        return NULL;
    }
    if (strnlen(header, HTTP_AUTHORIZATION_BYTES_MAX + 1) > HTTP_AUTHORIZATION_BYTES_MAX) {
        http_error(r, 401, "unauthorized", "the Authorization header holds at most %d bytes",
                   HTTP_AUTHORIZATION_BYTES_MAX);
        return NULL;
    }
    if (strncasecmp(header, scheme, sizeof scheme - 1) != 0) {
        http_error(r, 401, "unauthorized", "expected Authorization: Bearer TOKEN");
        return NULL;
    }
    const char *token = header + sizeof scheme - 1;
    while (*token == ' ') token++;
    return token;
}

/* The cache slot of a well-formed token: by its id, which is public. */
static struct token_slot *token_slot(struct http_server *s, const char *token)
{
    uint32_t h = 2166136261u; /* FNV-1a over the id */
    for (size_t i = 0; i < TOKEN_ID_HEX_BYTES; i++)
        h = (h ^ (unsigned char)token[strlen(TOKEN_PREFIX) + i]) * 16777619u;
    return &s->tokens[h % HTTP_TOKEN_CACHE_SLOTS];
}

/* The actor of a token verified less than HTTP_TOKEN_CACHE_MS ago; false if none. */
static bool token_cached(struct http_server *s, const char *token, struct auth_actor *out)
{
    if (strnlen(token, TOKEN_TEXT_BYTES + 1) != TOKEN_TEXT_BYTES) return false;
    struct token_slot *slot = token_slot(s, token);
    int64_t now = monotonic_ns();
    pthread_mutex_lock(&s->tokens_lock);
    bool hit = slot->verified_ns != 0 &&
               now - slot->verified_ns < HTTP_TOKEN_CACHE_MS * INT64_C(1000000) &&
               (slot->expires == 0 || time_now_ns() < slot->expires) &&
               sodium_memcmp(slot->token, token, TOKEN_TEXT_BYTES) == 0;
    if (hit) *out = slot->actor;
    pthread_mutex_unlock(&s->tokens_lock);
    return hit;
}

static void token_remember(struct http_server *s, const char *token,
                           const struct auth_actor *actor, int64_t expires)
{
    if (strnlen(token, TOKEN_TEXT_BYTES + 1) != TOKEN_TEXT_BYTES) return;
    struct token_slot *slot = token_slot(s, token);
    pthread_mutex_lock(&s->tokens_lock);
    memcpy(slot->token, token, TOKEN_TEXT_BYTES);
    slot->actor = *actor;
    slot->verified_ns = monotonic_ns();
    slot->expires = expires;
    pthread_mutex_unlock(&s->tokens_lock);
}

/* Verifies a token: from the cache, else with the store (and remembers it). */
static enum cc_err token_verify(struct http_server *s, const char *token,
                                struct auth_actor *out, struct cc_error *err)
{
    if (token_cached(s, token, out)) return CC_OK;
    int64_t expires = 0;
    struct concord *cc = pool_take(s);
    enum cc_err rc = concord_token_verify(cc, token, out, &expires, err);
    pool_give(s, cc);
    if (rc == CC_OK) token_remember(s, token, out, expires);
    return rc;
}

/*
 * Authenticates the request (see token_verify) and checks the token's role
 * against the route's; false after answering 401 or 403.
 */
static bool request_authorized(struct http_server *s, struct MHD_Connection *connection,
                               struct request_state *state)
{
    struct http_request *r = &state->request;
    uint32_t roles = state->route->roles;
    if (roles & AUTH_ANONYMOUS) {
        actor_anonymous(&r->actor);
        return true;
    }
    const char *token = bearer_token(connection, r);
    if (token == NULL) return false;
    struct cc_error err = {0};
    enum cc_err rc = token_verify(s, token, &r->actor, &err);
    if (rc != CC_OK) {
        http_error_from(r, &err);
        return false;
    }
    if (roles & AUTH_ROLE_BIT(r->actor.role)) return true;
    http_error(r, 403, "forbidden", "a%s %s may not use %s %s",
               r->actor.role == AUTH_ROLE_EDITOR || r->actor.role == AUTH_ROLE_AUDITOR ||
                       r->actor.role == AUTH_ROLE_ADMIN ? "n" : "",
               auth_role_name(r->actor.role), state->route->method, state->route->pattern);
    return false;
}

static uint64_t body_limit(const struct http_route *route)
{
    return route->body_max != 0 ? route->body_max : HTTP_BODY_BYTES_MAX;
}

/* Is the Content-Type one of the space-separated media types (parameters only after ';')? */
static bool media_accepted(const char *media, const char *type)
{
    if (type == NULL) return false;
    for (const char *m = media; *m != '\0';) {
        size_t n = strcspn(m, " ");
        if (n > 0 && strncasecmp(type, m, n) == 0) {
            const char *rest = type + n;
            while (*rest == ' ') rest++;
            if (*rest == '\0' || *rest == ';') return true;
        }
        m += n;
        while (*m == ' ') m++;
    }
    return false;
}

/* An unlinked temporary file for an import's body ($TMPDIR, else /tmp). */
static FILE *spool_open(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/concord-upload-XXXXXX", dir != NULL && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    unlink(path);
    FILE *f = fdopen(fd, "w+b");
    if (f == NULL) close(fd);
    return f;
}

/* The next name of a route's space-separated query list, at *q: its length, 0 at the end. */
static size_t query_next(const char **q)
{
    *q += strspn(*q, " ");
    return strcspn(*q, " ");
}

/* Is name one of the route's query parameters? */
static bool query_known(const struct http_route *route, const char *name)
{
    size_t n = strlen(name), k;
    for (const char *q = route->query ? route->query : ""; (k = query_next(&q)) > 0; q += k)
        if (k == n && memcmp(q, name, n) == 0) return true;
    return false;
}

struct query_check {
    const struct http_route *route;
    const char *unknown; /* the first name the route does not take, or NULL */
    const char *nul;     /* the first name whose name or value holds a NUL, or NULL */
};

static enum MHD_Result query_check_fn(void *ctx, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct query_check *c = ctx;
    if (key == NULL) return MHD_YES;
    /* A %00: read as a C string, `limit%00x` would be `limit`, `prefix=a%00b` be `a`. */
    if (strlen(key) != key_size || (value != NULL && strlen(value) != value_size)) {
        c->nul = key;
        return MHD_NO;
    }
    /* An empty name (`?&`, `a=1&&b=2`) names nothing: harmless, as a trailing `&` is. */
    if (key[0] == '\0' || query_known(c->route, key)) return MHD_YES;
    c->unknown = key;
    return MHD_NO;
}

/*
 * A query parameter an API route does not take is refused, not ignored: a
 * misspelt `dry_run` would otherwise import for real, a misspelt `prefix`
 * answer for every account. So is one holding a NUL, which would be read
 * as another. The dashboard's files are not the API: their query is the
 * page's own (`/?token=` signs in), read in the browser.
 */
static bool query_acceptable(struct MHD_Connection *connection, struct request_state *state)
{
    const struct http_route *route = state->route;
    if (strncmp(route->pattern, "/v1/", 4) != 0) return true;
    struct query_check c = {.route = route};
    MHD_get_connection_values_n(connection, MHD_GET_ARGUMENT_KIND, query_check_fn, &c);
    if (c.unknown == NULL && c.nul == NULL) return true;
    /* The name as sent, cut on a character (http_error shows bytes that are not UTF-8). */
    const char *name = c.nul != NULL ? c.nul : c.unknown;
    char shown[HTTP_QUERY_NAME_SHOWN + 1];
    snprintf(shown, sizeof shown, "%s", name);
    if (strlen(name) > HTTP_QUERY_NAME_SHOWN) utf8_truncate(shown);
    if (c.nul != NULL) {
        http_error(&state->request, 400, "bad_request",
                   "query parameter \"%s\": a NUL character (%%00) in its name or value", shown);
        return false;
    }
    char takes[256] = "none";
    size_t used = 0, k;
    for (const char *q = route->query ? route->query : "";
         used < sizeof takes && (k = query_next(&q)) > 0; q += k)
        used += (size_t)snprintf(takes + used, sizeof takes - used, "%s%.*s", used ? ", " : "",
                                 (int)k, q);
    http_error(&state->request, 400, "bad_request",
               "unknown query parameter \"%s\": %s %s takes %s", shown, route->method,
               route->pattern, takes);
    return false;
}

/* Checks what can be checked from the headers alone; false when refused. */
static bool headers_acceptable(struct http_server *s, struct MHD_Connection *connection,
                               struct request_state *state)
{
    struct http_request *r = &state->request;
    bool path_known;
    /* HEAD is GET without the body, which libmicrohttpd leaves out itself. */
    const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
    state->route = http_route_find(method, r->path, r->id, sizeof r->id, &path_known,
                                   r->allow, sizeof r->allow);
    if (state->route == NULL) {
        if (path_known)
            http_error(r, 405, "method_not_allowed", "%s %s: this path takes %s", r->method,
                       r->path, r->allow);
        else
            http_error(r, 404, "not_found", "no route %s %s", r->method, r->path);
        return false;
    }
    if (!request_authorized(s, connection, state)) return false;
    if (!query_acceptable(connection, state)) return false;
    if (state->route->body == NULL) return true;
    const char *type = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *media = state->route->media != NULL ? state->route->media : "application/json";
    if (!media_accepted(media, type)) {
        http_error(r, 415, "unsupported_media_type", "the body must be %s, not %s", media,
                   type ? type : "untyped");
        return false;
    }
    if (length == NULL) {
        http_error(r, 411, "length_required", "a body needs a Content-Length");
        return false;
    }
    uint64_t limit = body_limit(state->route);
    char *end;
    errno = 0;
    unsigned long long n = strtoull(length, &end, 10);
    if (errno != 0 || *end != '\0' || n > limit) {
        http_error(r, 413, "payload_too_large", "a body holds at most %llu bytes",
                   (unsigned long long)limit);
        return false;
    }
    return true;
}

static bool body_append(struct request_state *state, const char *data, size_t size)
{
    if (state->route->body_max != 0) { /* an import: to disk, not memory */
        if (state->too_large || state->spool_failed) return true;
        if (state->spool_length + size > state->route->body_max) {
            state->too_large = true;
            return true;
        }
        if (state->spool == NULL) state->spool = spool_open();
        if (state->spool == NULL || fwrite(data, 1, size, state->spool) != size)
            state->spool_failed = true;
        state->spool_length += size;
        return true;
    }
    if (state->too_large || state->body_length + size > HTTP_BODY_BYTES_MAX) {
        state->too_large = true;
        return true; /* keep reading to the end, then refuse */
    }
    if (state->body_length + size + 1 > state->body_capacity) {
        size_t capacity = state->body_capacity ? state->body_capacity : 4096;
        while (capacity < state->body_length + size + 1) capacity *= 2;
        char *grown = realloc(state->body, capacity);
        if (grown == NULL) return false;
        state->body = grown;
        state->body_capacity = capacity;
    }
    memcpy(state->body + state->body_length, data, size);
    state->body_length += size;
    state->body[state->body_length] = '\0';
    return true;
}

/* Runs the route's handler with a store connection (and the writer lock). */
static void dispatch(struct http_server *s, struct request_state *state)
{
    struct http_request *r = &state->request;
    r->body = state->body;
    r->body_length = state->body_length;
    if (state->route->body_max != 0) {
        if (state->spool == NULL) state->spool = spool_open(); /* an empty body */
        if (state->spool == NULL || state->spool_failed || fflush(state->spool) != 0 ||
            fseek(state->spool, 0, SEEK_SET) != 0) {
            http_error(r, 503, "overloaded", "the body could not be kept in a temporary file");
            return;
        }
        r->body_file = state->spool;
        r->body_length = (size_t)state->spool_length;
    }
    if (state->route->writes) {
        pthread_mutex_lock(&s->lock);
        bool full = s->writers_waiting >= s->writers_max;
        if (!full) s->writers_waiting++;
        pthread_mutex_unlock(&s->lock);
        if (full) {
            state->overloaded = true;
            http_error(r, 503, "overloaded", "%u batches are already writing or waiting to",
                       s->writers_max);
            return;
        }
        pthread_mutex_lock(&s->writer);
    }
    struct concord *cc = pool_take(s);
    /* Each request runs as its own actor on the connection it borrowed, then leaves it clean. */
    concord_set_actor(cc, &r->actor);
    struct cc_error err = {0};
    if (strncmp(r->path, AUTH_AUDIT_PREFIX, strlen(AUTH_AUDIT_PREFIX)) == 0 &&
        concord_audit_authorize(cc, r->path, &err) != CC_OK)
        http_error_from(r, &err);
    else
        state->route->handler(r, cc);
    concord_set_actor(cc, NULL);
    pool_give(s, cc);
    if (state->route->writes) {
        pthread_mutex_unlock(&s->writer);
        pthread_mutex_lock(&s->lock);
        s->writers_waiting--;
        pthread_mutex_unlock(&s->lock);
    }
}

static enum MHD_Result request_handler(void *cls, struct MHD_Connection *connection,
                                       const char *url, const char *method,
                                       const char *version, const char *upload_data,
                                       size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct request_state *state = *con_cls;
    if (state == NULL) { /* the headers have arrived */
        state = calloc(1, sizeof *state);
        if (state == NULL) return MHD_NO;
        state->started_ns = monotonic_ns();
        state->request = (struct http_request){.server = s, .connection = connection,
                                               .method = method, .path = url};
        *con_cls = state;
        pthread_mutex_lock(&s->lock);
        s->in_flight++;
        pthread_mutex_unlock(&s->lock);
        if (!headers_acceptable(s, connection, state)) {
            state->refused = true;
            /* A body on its way is refused now, unread (the connection then closes);
               a request without one is answered at its end, keeping the connection. */
            if (request_has_body(connection)) {
                state->answered = true;
                return respond(connection, state);
            }
        }
        return MHD_YES;
    }
    if (state->refused) {
        if (*upload_data_size > 0 || state->answered) {
            *upload_data_size = 0; /* discard what still comes */
            return MHD_YES;
        }
        state->answered = true;
        return respond(connection, state);
    }
    if (*upload_data_size > 0) {
        if (!body_append(state, upload_data, *upload_data_size)) return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (state->too_large)
        http_error(&state->request, 413, "payload_too_large", "a body holds at most %llu bytes",
                   (unsigned long long)body_limit(state->route));
    else
        dispatch(s, state);
    return respond(connection, state);
}

static void request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                              enum MHD_RequestTerminationCode code)
{
    (void)connection;
    (void)code;
    struct http_server *s = cls;
    struct request_state *state = *con_cls;
    if (state == NULL) return;
    json_decref(state->request.json);
    free(state->request.raw);
    if (state->spool != NULL) fclose(state->spool);
    free(state->body);
    free(state);
    *con_cls = NULL;
    pthread_mutex_lock(&s->lock);
    s->in_flight--;
    pthread_mutex_unlock(&s->lock);
}

/* ---------------------------------------------------------------- serving */

static bool parse_listen(const char *text, struct sockaddr_in *addr, struct cc_error *err)
{
    const char *colon = strrchr(text, ':');
    char host[64];
    if (colon == NULL || (size_t)(colon - text) >= sizeof host) goto bad;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535) goto bad;
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &addr->sin_addr) != 1) goto bad;
    return true;
bad:
    cc_error_set(err, CC_ERR_USAGE, "--listen takes ADDR:PORT (IPv4), not \"%s\"", text);
    return false;
}

static void pool_close(struct http_server *s)
{
    for (uint32_t i = 0; i < s->pool_free; i++) concord_close(s->pool[i]);
    s->pool_free = 0;
}

/*
 * Waits for the requests in flight to finish, up to the grace period. A
 * request counts from its headers, so one whose bytes are still in a socket
 * buffer is not counted yet: the stop waits until none has been in flight
 * for HTTP_SHUTDOWN_SETTLE_MS, long enough for the workers to read what
 * already arrived.
 */
static void drain(struct http_server *s)
{
    int64_t deadline = monotonic_ns() + HTTP_SHUTDOWN_GRACE_S * TIME_NS_PER_SECOND;
    int64_t quiet_since = monotonic_ns();
    for (;;) {
        pthread_mutex_lock(&s->lock);
        uint32_t busy = s->in_flight;
        pthread_mutex_unlock(&s->lock);
        int64_t now = monotonic_ns();
        if (busy != 0) quiet_since = now;
        if (now - quiet_since >= HTTP_SHUTDOWN_SETTLE_MS * INT64_C(1000000) || now > deadline)
            return;
        struct timespec pause = {.tv_nsec = 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

enum cc_err http_serve(const struct http_options *options, struct cc_error *err)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t threads = options->threads ? options->threads : (uint32_t)(cores > 0 ? cores : 2);
    if (threads > HTTP_THREADS_MAX)
        return cc_error_set(err, CC_ERR_USAGE, "--threads: at most %d", HTTP_THREADS_MAX);
    struct sockaddr_in addr;
    if (!parse_listen(options->listen ? options->listen : HTTP_LISTEN_DEFAULT, &addr, err))
        return CC_ERR_USAGE;
    /* A waiting batch holds its worker: keep HTTP_READ_WORKERS_RESERVED for reads. */
    struct http_server s = {.options = options,
                            .writers_max = threads > HTTP_READ_WORKERS_RESERVED
                                               ? threads - HTTP_READ_WORKERS_RESERVED
                                               : 1};
    pthread_mutex_init(&s.lock, NULL);
    pthread_mutex_init(&s.writer, NULL);
    pthread_mutex_init(&s.tokens_lock, NULL);
    pthread_cond_init(&s.returned, NULL);
    enum cc_err rc = CC_OK;
    for (uint32_t i = 0; i < threads + 1 && rc == CC_OK; i++) {
        struct concord_options o = {.path = options->db_path, .key_path = options->key_path,
                                    .mode = STORE_OPEN_EXISTING};
        rc = concord_open_options(&s.pool[i], &o, err);
        if (rc == CC_OK) s.pool_free++;
    }
    /* Signals go to the main thread only: block them before any thread starts. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct MHD_Daemon *daemon = NULL;
    if (rc == CC_OK) {
        daemon = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
            0, NULL, NULL, request_handler, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)threads, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned int)HTTP_CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            (unsigned int)HTTP_CONNECTIONS_PER_CLIENT_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned int)HTTP_CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)HTTP_CONNECTION_MEMORY_BYTES, MHD_OPTION_NOTIFY_COMPLETED, request_completed,
            &s, MHD_OPTION_END);
        if (daemon == NULL)
            rc = cc_error_set(err, CC_ERR_SYSTEM, "cannot listen on %s: %s",
                              options->listen ? options->listen : HTTP_LISTEN_DEFAULT,
                              strerror(errno));
    }
    if (rc == CC_OK) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
        char host[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &addr.sin_addr, host, sizeof host);
        fprintf(stderr, "concord: listening on http://%s:%u\n", host,
                info ? (unsigned)info->port : (unsigned)ntohs(addr.sin_port));
        /* The main thread: record due expiries every second until told to stop. */
        struct concord *ticker = pool_take(&s);
        for (;;) {
            struct timespec second = {.tv_sec = 1};
            int sig = sigtimedwait(&stop, NULL, &second);
            if (sig == SIGTERM || sig == SIGINT) break;
            struct cc_error tick_err = {0};
            pthread_mutex_lock(&s.writer);
            if (concord_expire_due(ticker, &tick_err) != CC_OK && !options->quiet)
                fprintf(stderr, "concord: recording due expiries: %s\n", tick_err.message);
            pthread_mutex_unlock(&s.writer);
        }
        pool_give(&s, ticker);
        fprintf(stderr, "concord: stopping: finishing the requests in flight\n");
        MHD_socket listener = MHD_quiesce_daemon(daemon);
        if (listener != MHD_INVALID_SOCKET) close(listener);
        drain(&s);
    }
    if (daemon != NULL) MHD_stop_daemon(daemon);
    pool_close(&s);
    pthread_cond_destroy(&s.returned);
    pthread_mutex_destroy(&s.writer);
    pthread_mutex_destroy(&s.tokens_lock);
    sodium_memzero(s.tokens, sizeof s.tokens);
    pthread_mutex_destroy(&s.lock);
    if (rc == CC_OK) fprintf(stderr, "concord: stopped\n");
    return rc;
}
