/*
 * embed.c — the build's generator of the dashboard's embedded files.
 *
 * usage: concord-embed OUTPUT.c BASE_DIR [FILE...]
 *
 * Each FILE is a path relative to BASE_DIR (web/). The output is a C source
 * that defines the table declared in src/http/assets.h: one struct
 * http_asset per file, in the order given, holding
 *
 *   path       the URL it is served at: index.html at "/", any other file
 *              at "/assets/" + its relative path;
 *   mime       the Content-Type, from the extension (text types with
 *              "; charset=utf-8"; application/octet-stream for the rest);
 *   body       the file's bytes (identity);
 *   gzip       the same bytes deflated with a gzip header, for the types
 *              that compress (text); NULL for those that are compressed
 *              already (png, woff2);
 *   etag       "first 16 hex digits of the SHA-256 of the identity bytes",
 *              quoted, so a changed file gets a new ETag.
 *
 * The output depends only on the inputs (the gzip header carries no time),
 * so a rebuild from the same files changes nothing. A file over
 * EMBED_FILE_BYTES_MAX is refused: the binary is no place for it. With no
 * FILE, the table is empty (http_assets_count = 0). Exit status: 0, or 1
 * with a message on stderr naming the file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zlib.h>

#define EMBED_FILE_BYTES_MAX (8u * 1024u * 1024u) /* one embedded file */
#define EMBED_PATH_BYTES_MAX 4096                 /* BASE_DIR/FILE */
#define EMBED_ETAG_HEX_DIGITS 16                  /* of the SHA-256, in the ETag */
#define EMBED_BYTES_PER_LINE 16                   /* of the generated arrays */
#define EMBED_GZIP_LEVEL 9

/* The extensions served, their Content-Type, and whether gzip is worth it. */
static const struct {
    const char *extension;
    const char *mime;
    bool compress;
} mime_types[] = {
    {"html", "text/html; charset=utf-8", true},
    {"js", "text/javascript; charset=utf-8", true},
    {"mjs", "text/javascript; charset=utf-8", true},
    {"css", "text/css; charset=utf-8", true},
    {"svg", "image/svg+xml; charset=utf-8", true},
    {"json", "application/json", true},
    {"map", "application/json", true},
    {"png", "image/png", false},
    {"woff2", "font/woff2", false},
};
static const char mime_unknown[] = "application/octet-stream";

struct buffer {
    unsigned char *data;
    size_t size;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Says what went wrong, naming the file, and returns 1 (the exit status). */
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "concord-embed: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static const char *extension_of(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash + 1 : name, '.');
    return dot ? dot + 1 : "";
}

static const char *mime_of(const char *name, bool *compress)
{
    const char *ext = extension_of(name);
    for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++) {
        if (strcmp(mime_types[i].extension, ext) == 0) {
            *compress = mime_types[i].compress;
            return mime_types[i].mime;
        }
    }
    *compress = false;
    return mime_unknown;
}

/* Reads base/name whole, refusing more than EMBED_FILE_BYTES_MAX; 0 or 1 after a message. */
static int read_file(const char *base, const char *name, struct buffer *out)
{
    char path[EMBED_PATH_BYTES_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", base, name);
    if (n < 0 || (size_t)n >= sizeof path) return fail("%s/%s: path too long", base, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return fail("%s: %s", path, strerror(errno));
    out->data = malloc(EMBED_FILE_BYTES_MAX + 1);
    out->size = 0;
    if (out->data == NULL) {
        fclose(f);
        return fail("%s: %s", path, "out of memory");
    }
    out->size = fread(out->data, 1, EMBED_FILE_BYTES_MAX + 1, f);
    bool error = ferror(f) != 0;
    fclose(f);
    if (error) return fail("%s: %s", path, "read error");
    if (out->size > EMBED_FILE_BYTES_MAX)
        return fail("%s: over %u bytes, too large to embed", path, EMBED_FILE_BYTES_MAX);
    return 0;
}

/* Deflates in into out with a gzip header (windowBits 31); 0 or 1 after a message. */
static int gzip_file(const char *name, const struct buffer *in, struct buffer *out)
{
    z_stream z = {0};
    if (deflateInit2(&z, EMBED_GZIP_LEVEL, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return fail("%s: %s", name, "deflateInit2 failed");
    uLong bound = deflateBound(&z, (uLong)in->size) + 32; /* + the gzip header and trailer */
    out->data = malloc(bound);
    if (out->data == NULL) {
        deflateEnd(&z);
        return fail("%s: %s", name, "out of memory");
    }
    z.next_in = in->data;
    z.avail_in = (uInt)in->size;
    z.next_out = out->data;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    out->size = (size_t)z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return fail("%s: %s", name, "deflate did not finish");
    return 0;
}

static void write_bytes(FILE *out, const char *array, size_t index, const struct buffer *b)
{
    fprintf(out, "static const unsigned char asset_%zu_%s[%zu] = {", index, array,
            b->size ? b->size : 1);
    if (b->size == 0) fputs("0", out); /* C has no empty array */
    for (size_t i = 0; i < b->size; i++)
        fprintf(out, "%s%u,", i % EMBED_BYTES_PER_LINE ? "" : "\n    ", b->data[i]);
    fputs("\n};\n", out);
}

/* A C string literal of s (paths may hold quotes or backslashes). */
static void write_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '?' || *p < ' ' || *p >= 0x7f)
            fprintf(out, "\\%03o", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* The ETag of bytes: a quoted prefix of their SHA-256 in hex. */
static void etag_of(const struct buffer *b, char etag[EMBED_ETAG_HEX_DIGITS + 3])
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    crypto_hash_sha256(hash, b->data, b->size);
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    snprintf(etag, EMBED_ETAG_HEX_DIGITS + 3, "\"%.*s\"", EMBED_ETAG_HEX_DIGITS, hex);
}

/* Writes one file's arrays and the macros of its table row; 0 or 1 after a message. */
static int embed_file(FILE *out, const char *base, const char *name, size_t index)
{
    struct buffer body = {0}, gzip = {0};
    bool compress;
    const char *mime = mime_of(name, &compress);
    int rc = read_file(base, name, &body);
    if (rc == 0 && compress) rc = gzip_file(name, &body, &gzip);
    if (rc == 0) {
        char etag[EMBED_ETAG_HEX_DIGITS + 3];
        etag_of(&body, etag);
        write_bytes(out, "body", index, &body);
        if (compress) write_bytes(out, "gzip", index, &gzip);
        fprintf(out, "#define ASSET_%zu_PATH ", index);
        if (strcmp(name, "index.html") == 0) {
            write_string(out, "/");
        } else {
            fputs("\"/assets/\" ", out);
            write_string(out, name);
        }
        fprintf(out, "\n#define ASSET_%zu_MIME ", index);
        write_string(out, mime);
        fprintf(out, "\n#define ASSET_%zu_SIZE %zu\n#define ASSET_%zu_GZIP ", index, body.size,
                index);
        if (compress)
            fprintf(out, "asset_%zu_gzip, %zu", index, gzip.size);
        else
            fputs("NULL, 0", out);
        fprintf(out, "\n#define ASSET_%zu_ETAG ", index);
        write_string(out, etag);
        fputs("\n\n", out);
    }
    free(body.data);
    free(gzip.data);
    return rc;
}

static int generate(FILE *out, const char *base, char **names, size_t count)
{
    fputs("/*\n * assets.c — the dashboard's files, embedded in the binary by tools/embed.c\n"
          " * at build time from web/ (generated: edit the files under web/ instead).\n */\n"
          "#include <stddef.h>\n\n#include \"http/assets.h\"\n\n",
          out);
    for (size_t i = 0; i < count; i++) {
        if (names[i][0] == '\0' || names[i][0] == '/' || strstr(names[i], "..") != NULL)
            return fail("%s: %s", names[i], "expected a path relative to the base directory");
        if (embed_file(out, base, names[i], i) != 0) return 1;
    }
    fputs("const struct http_asset http_assets[] = {\n", out);
    for (size_t i = 0; i < count; i++)
        fprintf(out,
                "    {ASSET_%zu_PATH, ASSET_%zu_MIME, asset_%zu_body, ASSET_%zu_SIZE, "
                "ASSET_%zu_GZIP, ASSET_%zu_ETAG},\n",
                i, i, i, i, i, i);
    fputs("    {NULL, NULL, NULL, 0, NULL, 0, NULL}, /* C has no empty array */\n};\n", out);
    fprintf(out, "const size_t http_assets_count = %zu;\n", count);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: concord-embed OUTPUT.c BASE_DIR [FILE...]\n");
        return 2;
    }
    if (sodium_init() < 0) return fail("libsodium cannot start");
    const char *output = argv[1];
    /* Written beside, then renamed: a failed run leaves no half-written source. */
    char partial[EMBED_PATH_BYTES_MAX];
    int n = snprintf(partial, sizeof partial, "%s.partial", output);
    if (n < 0 || (size_t)n >= sizeof partial) return fail("%s: %s", output, "path too long");
    FILE *out = fopen(partial, "w");
    if (out == NULL) return fail("%s: %s", partial, strerror(errno));
    int rc = generate(out, argv[2], argv + 3, (size_t)(argc - 3));
    if (fclose(out) != 0 && rc == 0) rc = fail("%s: %s", partial, strerror(errno));
    if (rc == 0 && rename(partial, output) != 0) rc = fail("%s: %s", output, strerror(errno));
    if (rc != 0) remove(partial);
    return rc;
}
