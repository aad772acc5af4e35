/*
 * assets.h — the dashboard's files, embedded in the binary.
 *
 * tools/embed.c generates the table at build time from the files under web/
 * (CMakeLists.txt lists them): index.html is served at "/", every other
 * file at "/assets/" + its path under web/. Each file is kept as it is and,
 * for the types that compress, gzipped, with an ETag derived from its bytes.
 * files.c serves them (docs/DASHBOARD.md). A build without web/ files has
 * an empty table.
 */
#ifndef CONCORD_HTTP_ASSETS_H
#define CONCORD_HTTP_ASSETS_H

#include <stddef.h>

struct http_asset {
    const char *path;           /* the URL path: "/" or "/assets/…" */
    const char *mime;           /* the Content-Type, charset included for text */
    const unsigned char *body;  /* the file's bytes */
    size_t size;                /* of body */
    const unsigned char *gzip;  /* body gzipped, or NULL when the type does not compress */
    size_t gzip_size;           /* of gzip */
    const char *etag;           /* "\"<16 hex digits of SHA-256(body)>\"" */
};

/* http_assets[0 .. http_assets_count), then one row of NULLs. */
extern const struct http_asset http_assets[];
extern const size_t http_assets_count;

#endif
