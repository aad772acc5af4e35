/*
 * http.h — concord over HTTP: `concord serve`.
 *
 * JSON over HTTP/1.1 under /v1/, the same operations, results and shapes as
 * the CLI (DESIGN.md, "The contract"). libmicrohttpd does the protocol: an
 * epoll loop, a pool of worker threads, keep-alive, and per-connection
 * limits. This layer holds the one table of routes (routes.c) and the server
 * around it (server.c): a pool of store connections (one per worker, so
 * reads run side by side under WAL), a writer lock that serializes batches
 * into the single store writer, the access log, and a graceful stop.
 */
#ifndef CONCORD_HTTP_H
#define CONCORD_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "app/app.h"
#include "util/error.h"

/* Limits, checked where requests enter. */
#define HTTP_BODY_BYTES_MAX (8u * 1024u * 1024u) /* a request body */
/* An import's body (FTS, IATI, HXL files): spooled to a temporary file as it
   arrives, so memory stays bounded whatever its size. */
#define HTTP_IMPORT_BYTES_MAX (UINT64_C(1) << 30)
#define HTTP_BATCH_OPS_MAX 8189                  /* operations per POST /v1/batch */
#define HTTP_CONNECTION_MEMORY_BYTES (32u * 1024u) /* headers and buffers per connection;
                                                    libmicrohttpd zeroes it per request */
#define HTTP_CONNECTIONS_MAX 1024
#define HTTP_CONNECTIONS_PER_CLIENT_MAX 256 /* one address cannot take them all */
#define HTTP_CONNECTION_TIMEOUT_S 30  /* idle or stalled connections are closed */
#define HTTP_THREADS_MAX 64
#define HTTP_PAGE_LIMIT_DEFAULT 100
#define HTTP_PAGE_LIMIT_MAX 1000
#define HTTP_READ_WORKERS_RESERVED 1  /* workers a queue of batches cannot take */
#define HTTP_SHUTDOWN_GRACE_S 10      /* how long a stop waits for requests in flight */
#define HTTP_SHUTDOWN_SETTLE_MS 300   /* no request in flight for this long: stop */
#define HTTP_LOG_PATH_BYTES_MAX 512   /* a path in the access log, encoded */
#define HTTP_QUERY_NAME_SHOWN 64      /* bytes of an unknown query parameter's name in its error */
#define HTTP_LISTEN_DEFAULT "127.0.0.1:8080"
#define HTTP_AUTHORIZATION_BYTES_MAX 256 /* an Authorization header; longer is refused unread */
#define HTTP_TOKEN_CACHE_SLOTS 256    /* verified tokens remembered (by their public id) */
#define HTTP_TOKEN_CACHE_MS 2000      /* a verified token is looked up again after this:
                                         a revocation takes effect within it */

struct http_options {
    const char *db_path;
    const char *key_path; /* the audit signing key; NULL: db_path + ".key" */
    const char *listen;  /* "ADDR:PORT"; port 0 lets the system choose */
    uint32_t threads;    /* worker threads (0: one per core) */
    bool quiet;          /* no access log */
};

/* Serves until SIGTERM or SIGINT; returns CC_OK after a clean stop. */
enum cc_err http_serve(const struct http_options *options, struct cc_error *err);

/* ---- between server.c, routes.c and files.c ---- */

struct http_server;
struct http_asset;
struct MHD_Response;

/* A request being answered: what the route needs and what it answers. */
struct http_request {
    struct http_server *server;
    struct MHD_Connection *connection;
    const char *method;
    const char *path;
    char id[256];          /* the {id} or {path} of the path, when the route has one */
    const char *body;      /* POST body (NUL-terminated), or NULL */
    size_t body_length;
    FILE *body_file;       /* an import route's body, spooled and rewound; else NULL */
    char *raw;             /* an answer that is not JSON (an export), malloc'd, or NULL */
    size_t raw_length;
    const char *raw_type;  /* its media type */
    unsigned status;       /* the answer */
    json_t *json;
    char allow[64];        /* 405: the methods the path takes */
    struct auth_actor actor; /* who the request runs as (from its bearer token) */
    const struct http_asset *file; /* the answer is this embedded file, not json (files.c) */
    bool file_gzip;          /* … in its gzipped form */
    bool retry;              /* a 503 worth retrying soon: sent with Retry-After */
};

typedef void (*http_handler)(struct http_request *request, struct concord *cc);

struct http_route {
    const char *method;
    const char *pattern;     /* "/v1/accounts/{id}" */
    http_handler handler;
    uint32_t roles;          /* who may use it: AUTH_ROLE_BIT()s, or AUTH_ANONYMOUS */
    bool writes;             /* takes the writer lock */
    bool id_rest;            /* a final {id} takes the rest of the path ('/' included) */
    const char *operation;   /* OpenAPI operationId */
    const char *summary;     /* for OpenAPI */
    const char *query;       /* query parameters, "prefix unit owner limit after" */
    const char *body;        /* request body schema, or NULL */
    const char *response;    /* response schema; for a route that answers with an
                                embedded file or another format, its media type (with a '/') */
    uint64_t body_max;       /* 0: HTTP_BODY_BYTES_MAX, in memory; else spooled to a file */
    const char *media;       /* the body's media types, space-separated; NULL: application/json */
};

extern const struct http_route http_routes[];

/* Finds the route for method and path; fills request->id. NULL when none:
   then *path_known tells 404 from 405, and allow lists the path's methods. */
const struct http_route *http_route_find(const char *method, const char *path, char *id,
                                         size_t id_size, bool *path_known, char *allow,
                                         size_t allow_size);

/* Sets an error answer {"error":{"code","message"}}. */
void http_error(struct http_request *request, unsigned status, const char *code,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Sets the answer from a cc_error (404 not found, 400 usage/input, 500 store…). */
void http_error_from(struct http_request *request, const struct cc_error *err);
/* A query argument, or NULL. */
const char *http_query(const struct http_request *request, const char *name);
/* The OpenAPI 3.1 document of the route table. */
json_t *http_openapi(void);

/* Answers with the embedded file at request->path (200, or 304 on a matching
   If-None-Match), or a 404 error. */
void http_file_answer(struct http_request *request);
/* The response of a request answered with a file, its headers set; *length:
   the bytes of its body. NULL when out of memory. */
struct MHD_Response *http_file_response(const struct http_request *request, size_t *length);

#endif
