/*
 * iati.c — IATI 2.03 activity files in and out (see iati.h; the mapping is
 * docs/INTEROP.md's).
 *
 * Reading is one pass of xmlTextReader with the schema plugged into it: each
 * node is validated as the reader produces it, and the first error the
 * parser or the validator reports stops the read. The reader keeps a stack
 * of the names of the open elements (for messages, and to know where a
 * narrative belongs) and the one activity being read; text is gathered for
 * the few elements concord keeps, up to their limits. Elements of other
 * namespaces (IATI's extensions) and everything concord does not map are
 * passed over, their content never held.
 *
 * Identifiers. An activity's transfers are named from its iati-identifier:
 * the identifier itself when it is plain ASCII without spaces, '#' or '~'
 * and at most 48 bytes ("iati/t/GB-1-X#3"), else '~' and 24 hex digits of
 * its BLAKE2b hash; a transaction by its @ref when the ref is short, plain
 * and unique in the activity ("…#rTX-7"), else by its position among the
 * activity's transaction elements ("…#3"). A ref ending in a suffix of the
 * ledger's own records ("d-1/approval", which concord's export writes) is
 * keyed by position too: as an id the ledger would refuse it. The '/' makes
 * them ids that only operations derive (app/auth.c refuses them to an
 * editor's hand). Both reports of one flow share a key (iati_pair_key): the
 * provider's and the recipient's activity identifiers, the stage, the
 * currency and the value, and the ordinal of that combination in the
 * reporting activity, so that the k-th tranche of 100 reported by each side
 * meet.
 */
#include "fmt/iati.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlwriter.h>
#include <sodium.h>

#include "ledger/ledger.h"
#include "util/timefmt.h"
#include "util/utf8.h"

#define IATI_KEY_PLAIN_BYTES_MAX 48   /* an identifier used as it is in transfer ids */
#define IATI_KEY_HASH_BYTES 12        /* else: 24 hex digits of its hash */
#define IATI_TX_REF_PLAIN_BYTES_MAX 32 /* a transaction @ref used as it is */
#define IATI_PARTY_HASH_BYTES 4
#define IATI_PAIR_HASH_BYTES 16
#define IATI_DATE_BYTES 10             /* YYYY-MM-DD */
#define IATI_NAME_SEEN_BYTES 40        /* of an open element's name, kept for messages */

/* ---------------------------------------------------------------- tables */

static const struct iati_type iati_types[] = {
    {1, "Incoming Funds", "iati.incoming_funds", "funds", false, true, 'r'},
    {2, "Outgoing Commitment", "iati.outgoing_commitment", "commitment", false, false, 'p'},
    {3, "Disbursement", "iati.disbursement", "funds", false, false, 'p'},
    {4, "Expenditure", "iati.expenditure", "funds", false, false, 0},
    {5, "Interest Payment", "iati.interest_payment", "funds", false, true, 0},
    {6, "Loan Repayment", "iati.loan_repayment", "funds", false, true, 0},
    {7, "Reimbursement", "iati.reimbursement", "funds", false, false, 'p'},
    {8, "Purchase of Equity", "iati.purchase_of_equity", "funds", false, false, 0},
    {9, "Sale of Equity", "iati.sale_of_equity", "funds", false, true, 0},
    {10, "Credit Guarantee", "iati.credit_guarantee", "guarantee", false, false, 0},
    {11, "Incoming Commitment", "iati.incoming_commitment", "commitment", false, true, 'r'},
    {12, "Outgoing Pledge", "iati.outgoing_pledge", "pledge", true, false, 'p'},
    {13, "Incoming Pledge", "iati.incoming_pledge", "pledge", true, true, 'r'},
};

const struct iati_type *iati_type_of(int code)
{
    if (code < 1 || code > 13) return NULL;
    return &iati_types[code - 1];
}

const struct iati_type *iati_type_of_kind(const char *kind)
{
    for (size_t i = 0; kind != NULL && i < sizeof iati_types / sizeof iati_types[0]; i++)
        if (strcmp(iati_types[i].kind, kind) == 0) return &iati_types[i];
    return NULL;
}

/*
 * ISO 4217 codes and their minor units, sorted for bsearch: the current list,
 * and the codes withdrawn since 2000 that IATI files still carry (their
 * Currency codelist keeps them). XDR, the IMF's unit, is on IATI's list.
 */
struct currency {
    char code[4];
    int8_t minor;
};

static const struct currency currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2},
    {"AUD", 2}, {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2},
    {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2},
    {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2}, {"BYR", 0}, {"BZD", 2}, {"CAD", 2},
    {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2},
    {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2}, {"CYP", 2},
    {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EEK", 2}, {"EGP", 2},
    {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2},
    {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2},
    {"HNL", 2}, {"HRK", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
    {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2},
    {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2},
    {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LTL", 2},
    {"LVL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2},
    {"MNT", 2}, {"MOP", 2}, {"MRO", 2}, {"MRU", 2}, {"MTL", 2}, {"MUR", 2}, {"MVR", 2},
    {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2},
    {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2},
    {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2},
    {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2},
    {"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SIT", 2}, {"SKK", 2}, {"SLE", 2}, {"SLL", 2},
    {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STD", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2},
    {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2},
    {"TTD", 2}, {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2},
    {"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VEF", 2}, {"VES", 2},
    {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XDR", 2}, {"XOF", 0},
    {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMK", 2}, {"ZMW", 2}, {"ZWL", 2},
};

static int currency_order(const void *key, const void *item)
{
    return strcmp(key, ((const struct currency *)item)->code);
}

int iati_currency_minor_units(const char *code)
{
    if (code == NULL || strlen(code) != 3) return -1;
    const struct currency *c = bsearch(code, currencies, sizeof currencies / sizeof currencies[0],
                                       sizeof currencies[0], currency_order);
    return c != NULL ? c->minor : -1;
}

/* ---------------------------------------------------------------- text */

static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* s without the XML whitespace around it, into out (size > 0); false when it does not fit. */
static bool trimmed(const char *s, char *out, size_t size)
{
    while (xml_space(*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && xml_space(s[n - 1])) n--;
    if (n >= size) return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* Cuts s (valid UTF-8) to at most limit bytes on a character boundary. */
static void cut_utf8(char *s, size_t limit)
{
    size_t n = strlen(s);
    if (n <= limit) return;
    n = limit;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    s[n] = '\0';
}

static void hex(const unsigned char *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

/* BLAKE2b of text, n bytes (16 at most), as 2n hex digits. */
static void hashed(const char *text, size_t length, size_t n, char *out)
{
    unsigned char digest[16];
    crypto_generichash(digest, n, (const unsigned char *)text, length, NULL, 0);
    hex(digest, n, out);
}

bool iati_decimal_canonical(const char *text, char out[IATI_VALUE_BYTES_MAX + 2])
{
    char s[IATI_VALUE_BYTES_MAX + 1];
    if (!trimmed(text, s, sizeof s)) return false;
    const char *p = s;
    bool negative = false;
    if (*p == '+' || *p == '-') negative = *p++ == '-';
    const char *int_start = p;
    while (*p >= '0' && *p <= '9') p++;
    size_t int_length = (size_t)(p - int_start);
    const char *frac_start = p, *frac_end = p;
    if (*p == '.') {
        frac_start = ++p;
        while (*p >= '0' && *p <= '9') p++;
        frac_end = p;
    }
    size_t frac_length = (size_t)(frac_end - frac_start);
    if (*p != '\0' || int_length + frac_length == 0) return false;
    while (int_length > 0 && *int_start == '0') { /* leading zeros */
        int_start++;
        int_length--;
    }
    while (frac_length > 0 && frac_start[frac_length - 1] == '0') frac_length--;
    char *o = out;
    if (negative && (int_length > 0 || frac_length > 0)) *o++ = '-';
    if (int_length == 0) *o++ = '0';
    memcpy(o, int_start, int_length);
    o += int_length;
    if (frac_length > 0) {
        *o++ = '.';
        memcpy(o, frac_start, frac_length);
        o += frac_length;
    }
    *o = '\0';
    return true;
}

/* ---------------------------------------------------------------- ids */

void iati_party_of(const char *ref, char out[IATI_PARTY_ID_BYTES_MAX + 1])
{
    char prefixed[IATI_REF_BYTES_MAX + 8];
    snprintf(prefixed, sizeof prefixed, "iati-%s", ref);
    iati_party_id(prefixed, out);
}

void iati_party_id(const char *ref, char out[IATI_PARTY_ID_BYTES_MAX + 1])
{
    assert(ref != NULL);
    char id[2 * IATI_REF_BYTES_MAX + 2];
    size_t n = 0;
    if (!((ref[0] >= 'a' && ref[0] <= 'z') || (ref[0] >= 'A' && ref[0] <= 'Z') ||
          (ref[0] >= '0' && ref[0] <= '9')))
        id[n++] = 'x'; /* a party id starts with a letter or a digit */
    for (const char *p = ref; *p != '\0' && n < sizeof id - 1; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        bool kept = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        id[n++] = kept ? c : '-';
    }
    id[n] = '\0';
    if (n <= IATI_PARTY_ID_BYTES_MAX) {
        memcpy(out, id, n + 1);
        assert(ledger_valid_account_id(out));
        return;
    }
    /* Cut, and told apart from the other refs that start the same way. */
    size_t keep = IATI_PARTY_ID_BYTES_MAX - 1 - 2 * IATI_PARTY_HASH_BYTES;
    memcpy(out, id, keep);
    out[keep] = '-';
    hashed(ref, strlen(ref), IATI_PARTY_HASH_BYTES, out + keep + 1);
}

bool iati_account_id(char *out, size_t size, const char *stage, const char *party, bool given,
                     const char *unit)
{
    char lower[LEDGER_UNIT_CODE_BYTES_MAX + 1];
    size_t n = strlen(unit);
    if (n == 0 || n > LEDGER_UNIT_CODE_BYTES_MAX) return false;
    for (size_t i = 0; i <= n; i++)
        lower[i] = unit[i] >= 'A' && unit[i] <= 'Z' ? (char)(unit[i] - 'A' + 'a') : unit[i];
    int w = snprintf(out, size, "iati.%s.%s.%s.%s", stage, party != NULL ? party : IATI_UNSPECIFIED,
                     given ? "given" : "received", lower);
    return w > 0 && (size_t)w < size && ledger_valid_account_id(out);
}

/* The part of transfer ids that names an activity (see the file's comment). */
static void activity_key(const char *identifier, char out[IATI_KEY_PLAIN_BYTES_MAX + 1])
{
    size_t n = strlen(identifier);
    bool plain = n >= 1 && n <= IATI_KEY_PLAIN_BYTES_MAX;
    for (size_t i = 0; plain && i < n; i++)
        plain = identifier[i] > ' ' && identifier[i] < 0x7f && identifier[i] != '#' &&
                identifier[i] != '~';
    if (plain) {
        memcpy(out, identifier, n + 1);
        return;
    }
    out[0] = '~';
    hashed(identifier, n, IATI_KEY_HASH_BYTES, out + 1);
}

static bool fits(int w, size_t size)
{
    return w > 0 && (size_t)w < size && (size_t)w <= IATI_ID_BYTES_MAX;
}

bool iati_activity_record_id(char *out, size_t size, const char *identifier)
{
    char key[IATI_KEY_PLAIN_BYTES_MAX + 1];
    activity_key(identifier, key);
    return fits(snprintf(out, size, "iati/a/%s", key), size);
}

bool iati_ref_keyable(const char *ref)
{
    size_t n = strlen(ref);
    bool plain = n >= 1 && n <= IATI_TX_REF_PLAIN_BYTES_MAX;
    for (size_t i = 0; plain && i < n; i++)
        plain = ref[i] > ' ' && ref[i] < 0x7f && ref[i] != '#' && ref[i] != '~';
    /* "…#r<ref>" ends as the ref does: a ref ending in "/approval" would take an id the
     * ledger keeps for its own records and be refused, so it is keyed by position. */
    return plain && !ledger_reserved_transfer_id(ref);
}

bool iati_transaction_id(char *out, size_t size, const char *identifier, const char *ref,
                         int64_t position)
{
    char key[IATI_KEY_PLAIN_BYTES_MAX + 1];
    activity_key(identifier, key);
    if (ref != NULL) {
        if (!iati_ref_keyable(ref)) return false;
        return fits(snprintf(out, size, "iati/t/%s#r%s", key, ref), size);
    }
    if (position < 1) return false;
    return fits(snprintf(out, size, "iati/t/%s#%lld", key, (long long)position), size);
}

bool iati_transaction_prefix(char *out, size_t size, const char *identifier)
{
    char key[IATI_KEY_PLAIN_BYTES_MAX + 1];
    activity_key(identifier, key);
    return fits(snprintf(out, size, "iati/t/%s#", key), size);
}

bool iati_pair_id(char *out, size_t size, const char *key, char side)
{
    if (side != 'p' && side != 'r') return false;
    return fits(snprintf(out, size, "iati/pair/%s/%c", key, side), size);
}

void iati_pair_key(const char *provider_activity, const char *receiver_activity,
                   const char *stage, const char *currency, const char *value, int64_t ordinal,
                   char out[33])
{
    crypto_generichash_state state;
    unsigned char digest[IATI_PAIR_HASH_BYTES];
    const char *parts[] = {provider_activity, receiver_activity, stage, currency, value};
    crypto_generichash_init(&state, NULL, 0, sizeof digest);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) /* each with its NUL: no run-ins */
        crypto_generichash_update(&state, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    char k[24];
    int n = snprintf(k, sizeof k, "%lld", (long long)ordinal);
    crypto_generichash_update(&state, (const unsigned char *)k, (size_t)n);
    crypto_generichash_final(&state, digest, sizeof digest);
    hex(digest, sizeof digest, out);
}

/* ---------------------------------------------------------------- libxml2's errors */

/*
 * libxml2 reports some errors through the handlers of the context that met
 * them and others, with a schema plugged into a reader (the parser's own,
 * bad UTF-8 among them), only through its per-thread structured handler. So
 * that every one reaches the caller and none is printed, that handler is
 * ours while a schema is loaded or a file read, and given back after.
 */
struct saved_errors {
    xmlStructuredErrorFunc handler;
    void *ctx;
    xmlGenericErrorFunc generic;  /* a few (the encoders') are only printed through this */
    void *generic_ctx;
};

static struct saved_errors errors_capture(xmlStructuredErrorFunc handler,
                                          xmlGenericErrorFunc generic, void *ctx)
{
    struct saved_errors saved = {xmlStructuredError, xmlStructuredErrorContext, xmlGenericError,
                                 xmlGenericErrorContext};
    xmlSetStructuredErrorFunc(ctx, handler);
    xmlSetGenericErrorFunc(ctx, generic);
    return saved;
}

static void errors_restore(struct saved_errors saved)
{
    xmlSetStructuredErrorFunc(saved.ctx, saved.handler);
    xmlSetGenericErrorFunc(saved.generic_ctx, saved.generic);
}

/* ---------------------------------------------------------------- schema */

struct iati_schema {
    xmlSchemaPtr xsd;
};

struct schema_errors {
    char *message;
    size_t size;
    const char *path;
};

static void schema_error(void *ctx, xmlErrorPtr e)
{
    struct schema_errors *s = ctx;
    if (e == NULL || e->level == XML_ERR_WARNING || s->message[0] != '\0') return;
    char text[IATI_MESSAGE_BYTES];
    snprintf(text, sizeof text, "%s", e->message != NULL ? e->message : "unreadable");
    size_t n = strlen(text);
    while (n > 0 && xml_space(text[n - 1])) text[--n] = '\0';
    snprintf(s->message, s->size, "schema %s: %s", s->path, text);
    utf8_truncate(s->message);
}

static void schema_generic_error(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What libxml2 would print: the first such is the message, when there is none yet. */
static void schema_generic_error(void *ctx, const char *fmt, ...)
{
    struct schema_errors *s = ctx;
    if (s->message[0] != '\0') return;
    char text[IATI_MESSAGE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t n = strlen(text);
    while (n > 0 && xml_space(text[n - 1])) text[--n] = '\0';
    snprintf(s->message, s->size, "schema %s: %s", s->path, text);
    utf8_truncate(s->message);
}

struct iati_schema *iati_schema_load(const char *path, char *message, size_t size)
{
    message[0] = '\0';
    xmlInitParser();
    FILE *probe = fopen(path, "rb"); /* a plain message for the commonest mistake */
    if (probe == NULL) {
        snprintf(message, size, "schema %s: cannot be read", path);
        return NULL;
    }
    fclose(probe);
    struct schema_errors errors = {.message = message, .size = size, .path = path};
    xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(path);
    if (parser == NULL) {
        snprintf(message, size, "schema %s: out of memory", path);
        return NULL;
    }
    xmlSchemaSetParserStructuredErrors(parser, schema_error, &errors);
    struct saved_errors saved = errors_capture(schema_error, schema_generic_error, &errors);
    xmlSchemaPtr xsd = xmlSchemaParse(parser);
    xmlSchemaFreeParserCtxt(parser);
    errors_restore(saved);
    if (xsd == NULL) {
        if (message[0] == '\0') snprintf(message, size, "schema %s: not an XML schema", path);
        return NULL;
    }
    struct iati_schema *schema = malloc(sizeof *schema);
    if (schema == NULL) {
        xmlSchemaFree(xsd);
        snprintf(message, size, "schema %s: out of memory", path);
        return NULL;
    }
    schema->xsd = xsd;
    message[0] = '\0';
    return schema;
}

void iati_schema_free(struct iati_schema *schema)
{
    if (schema == NULL) return;
    xmlSchemaFree(schema->xsd);
    free(schema);
}

/* ---------------------------------------------------------------- reader state */

/* Which field the text being gathered goes to. */
enum target {
    T_NONE,
    T_IDENTIFIER,     /* iati-identifier */
    T_ORG_NAME,       /* the first narrative of a reporting-, participating-, provider- or
                         receiver-org */
    T_TITLE,          /* the activity's first title narrative */
    T_DESCRIPTION,    /* the activity's first description narrative */
    T_VALUE,          /* a transaction's value */
    T_TX_DESCRIPTION, /* a transaction's description narrative */
};

/* A transaction while its element is open. */
struct tx {
    json_t *op;         /* its operation's fields as read */
    int line, value_line, date_line;
    int64_t position;   /* among the activity's transaction elements, from 1 */
    bool skipped;       /* not recorded (iati_sink.skipped said why) */
    bool has_provider, has_receiver;
    char type[IATI_CODE_BYTES_MAX + 1];
    char date[IATI_CODE_BYTES_MAX + 1];
    char currency[IATI_CODE_BYTES_MAX + 1];
    char value_date[IATI_CODE_BYTES_MAX + 1];
    char value[IATI_VALUE_BYTES_MAX + 2]; /* canonical once the transaction ends */
};

struct reader {
    xmlTextReaderPtr xml;
    const struct iati_sink *sink;
    const char *name;
    char *message;
    size_t size;
    bool failed;
    int failed_line;      /* where (0: nowhere in particular) */
    /*
     * The schema's refusal waits for the parser's step to end: at a file cut
     * inside a tag, the validator is handed the cut name ("<narr") before
     * the parser finds the file truncated on the same line, which is the
     * problem to report.
     */
    bool invalid;
    int invalid_line;
    char invalid_message[IATI_MESSAGE_BYTES];
    FILE *file;           /* the stream, when reading one */
    bool validate_only;   /* iati_validate: nothing gathered, nothing handed over */
    int64_t bytes;        /* read from it so far */
    bool too_big, io_error;
    bool at_end;          /* the stream has nothing more to give */
    char open[IATI_DEPTH_TRACKED][IATI_NAME_SEEN_BYTES]; /* "" for another namespace's */
    int depth;            /* of the node being handled */
    /* the activity being read */
    json_t *activity;     /* NULL outside iati-activity */
    int activity_line;
    char default_currency[IATI_CODE_BYTES_MAX + 1];
    bool has_title, has_description, in_first_description;
    int64_t participating_more;
    json_t *org;          /* the organisation whose first narrative is awaited, or NULL */
    struct tx *txs;
    size_t tx_count, tx_capacity;
    struct tx *tx;        /* the open transaction, or NULL */
    bool tx_has_description;
    /* text being gathered */
    enum target target;
    int target_depth;
    bool text_strict;     /* over the limit is an error (identifiers, values), else cut */
    size_t text_limit, text_length;
    char text[IATI_TEXT_BYTES_MAX + 8];
};

/* "name:line: element E: text" into out. */
static void place_text(const struct reader *r, char *out, size_t size, int line,
                       const char *element, const char *fmt, va_list ap)
{
    char text[IATI_MESSAGE_BYTES];
    vsnprintf(text, sizeof text, fmt, ap);
    if (line > 0)
        snprintf(out, size, "%s:%d: element %s: %s", r->name, line, element, text);
    else
        snprintf(out, size, "%s: element %s: %s", r->name, element, text);
    utf8_truncate(out);
}

static bool fail_at(struct reader *r, int line, const char *element, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The first problem is the one reported; a schema's refusal still waiting
 * (see struct reader) is first unless this one is on its line or before.
 */
static bool fail_at(struct reader *r, int line, const char *element, const char *fmt, ...)
{
    if (r->failed) return false;
    r->failed = true;
    if (r->invalid && (line <= 0 || line > r->invalid_line)) {
        r->failed_line = r->invalid_line;
        snprintf(r->message, r->size, "%s", r->invalid_message);
        return false;
    }
    r->failed_line = line;
    va_list ap;
    va_start(ap, fmt);
    place_text(r, r->message, r->size, line, element, fmt, ap);
    va_end(ap);
    return false;
}

static void invalid_at(struct reader *r, int line, const char *element, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The schema's first refusal, kept until the parser's step ends (invalid_settle). */
static void invalid_at(struct reader *r, int line, const char *element, const char *fmt, ...)
{
    if (r->failed || r->invalid) return;
    r->invalid = true;
    r->invalid_line = line;
    va_list ap;
    va_start(ap, fmt);
    place_text(r, r->invalid_message, sizeof r->invalid_message, line, element, fmt, ap);
    va_end(ap);
}

/* The parser's step is over: a schema refusal waiting is the problem now. */
static bool invalid_settle(struct reader *r)
{
    if (r->failed) return false;
    if (!r->invalid) return true;
    r->failed = true;
    r->failed_line = r->invalid_line;
    snprintf(r->message, r->size, "%s", r->invalid_message);
    return false;
}

static int node_line(struct reader *r)
{
    xmlNodePtr node = xmlTextReaderCurrentNode(r->xml);
    long line = node != NULL ? xmlGetLineNo(node) : -1;
    if (line <= 0) line = xmlTextReaderGetParserLineNumber(r->xml);
    return line > 0 && line < INT32_MAX ? (int)line : 0;
}

/* The innermost open element's name, for a message about the place the parser stopped. */
static const char *innermost(const struct reader *r)
{
    for (int d = r->depth < IATI_DEPTH_TRACKED ? r->depth : IATI_DEPTH_TRACKED - 1; d >= 0; d--)
        if (r->open[d][0] != '\0') return r->open[d];
    return "(document)";
}

/* Does libxml2's error code mean the parser wanted more of what it was reading? */
static bool incomplete(int code)
{
    switch (code) {
    case XML_ERR_GT_REQUIRED:          /* "<narrative" */
    case XML_ERR_LTSLASH_REQUIRED:
    case XML_ERR_TAG_NOT_FINISHED:
    case XML_ERR_NAME_REQUIRED:        /* "<" */
    case XML_ERR_EQUAL_REQUIRED:       /* "<value currency" */
    case XML_ERR_ATTRIBUTE_WITHOUT_VALUE:
    case XML_ERR_ATTRIBUTE_NOT_STARTED:
    case XML_ERR_ATTRIBUTE_NOT_FINISHED: /* "<value currency=\"EU" */
    case XML_ERR_STRING_NOT_STARTED:
    case XML_ERR_STRING_NOT_CLOSED:
    case XML_ERR_LITERAL_NOT_FINISHED:
    case XML_ERR_ENTITYREF_SEMICOL_MISSING: /* "&am" */
    case XML_ERR_COMMENT_NOT_FINISHED:
    case XML_ERR_PI_NOT_FINISHED:
    case XML_ERR_CDATA_NOT_FINISHED: return true;
    default: return false;
    }
}

/*
 * libxml2's errors, parser's and validator's, come here. A validator's
 * message starts "Element 'value': …" or "Element 'x', attribute 'y': …":
 * the element is taken from it, the rest kept as libxml2 words it.
 */
static void on_xml_error(void *ctx, xmlErrorPtr e)
{
    struct reader *r = ctx;
    if (e == NULL || e->level == XML_ERR_WARNING || r->failed) return;
    int line = e->line > 0         ? e->line
               : r->xml != NULL ? xmlTextReaderGetParserLineNumber(r->xml)
                                : 0;
    if (r->too_big) {
        fail_at(r, line, innermost(r), "the file is larger than %lld bytes",
                (long long)IATI_FILE_BYTES_MAX);
        return;
    }
    if (r->io_error) {
        fail_at(r, line, innermost(r), "the file could not be read");
        return;
    }
    char text[IATI_MESSAGE_BYTES];
    snprintf(text, sizeof text, "%s", e->message != NULL ? e->message : "unreadable");
    size_t n = strlen(text);
    while (n > 0 && xml_space(text[n - 1])) text[--n] = '\0';
    for (char *p = text; *p; p++) /* one line: a message is a line of the terminal's */
        if (*p == '\n') *p = ' ';
    utf8_truncate(text);
    if (e->domain == XML_FROM_SCHEMASV && strncmp(text, "Element '", 9) == 0) {
        char element[IATI_NAME_SEEN_BYTES];
        const char *start = text + 9, *end = strchr(start, '\'');
        size_t length = end != NULL ? (size_t)(end - start) : 0;
        if (end != NULL && length > 0 && length < sizeof element) {
            memcpy(element, start, length);
            element[length] = '\0';
            const char *rest = end + 1;
            if (*rest == ':' || *rest == ',') rest++;
            while (*rest == ' ') rest++;
            invalid_at(r, line, element, "not valid IATI 2.03: %s", rest);
            return;
        }
    }
    if (e->domain == XML_FROM_SCHEMASV || e->domain == XML_FROM_SCHEMASP) {
        invalid_at(r, line, innermost(r), "not valid IATI 2.03: %s", text);
        return;
    }
    /* The parser reads ahead of the nodes handled: the element it is in is its own to say. */
    const xmlParserCtxt *parser = e->domain == XML_FROM_PARSER ? e->ctxt : NULL;
    char element[IATI_NAME_SEEN_BYTES];
    snprintf(element, sizeof element, "%s",
             parser != NULL && parser->name != NULL ? (const char *)parser->name : innermost(r));
    utf8_truncate(element);
    bool ended = e->code == XML_ERR_DOCUMENT_END || e->code == XML_ERR_DOCUMENT_EMPTY;
    /*
     * Read to its end, and the parser stopped with nothing left, wanting the
     * rest of a tag, a name, a value or a comment: a file cut inside it. Other
     * errors can be a whole file's last bytes (`</iati-activitiez>`, `&#1;`,
     * `&foo;` without a newline after them), and are said as they are.
     */
    bool cut = r->at_end && incomplete(e->code) && parser != NULL && parser->input != NULL &&
               parser->input->cur != NULL && parser->input->end != NULL &&
               parser->input->cur >= parser->input->end;
    if (ended && r->open[0][0] == '\0')
        fail_at(r, line, "(document)", "not well-formed XML: no root element (not XML, or empty)");
    else if ((ended || cut) && parser != NULL && parser->nameNr > 0)
        fail_at(r, line, element,
                "not well-formed XML: the file ends before this element does (truncated?)");
    else
        fail_at(r, line, element, "not well-formed XML: %s", text);
}

static void on_generic_error(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An error libxml2 only prints (an encoder's): the file is refused with it. */
static void on_generic_error(void *ctx, const char *fmt, ...)
{
    struct reader *r = ctx;
    if (r->failed) return;
    char text[IATI_MESSAGE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (char *p = text; *p; p++)
        if (*p == '\n') *p = ' ';
    size_t n = strlen(text);
    while (n > 0 && xml_space(text[n - 1])) text[--n] = '\0';
    utf8_truncate(text);
    int line = r->xml != NULL ? xmlTextReaderGetParserLineNumber(r->xml) : 0;
    fail_at(r, line, innermost(r), "not well-formed XML: %s", text);
}

/* xmlTextReader's input: the file, counted, refused past the limit. */
static int read_file(void *ctx, char *buffer, int length)
{
    struct reader *r = ctx;
    if (length <= 0) return 0;
    ssize_t n = pread(fileno(r->file), buffer, (size_t)length, (off_t)r->bytes);
    if (n < 0) {
        r->io_error = true;
        return -1;
    }
    r->bytes += (int64_t)n;
    if (n == 0) r->at_end = true;
    if (r->bytes > IATI_FILE_BYTES_MAX) {
        r->too_big = true;
        return -1;
    }
    return (int)n;
}

static int close_file(void *ctx)
{
    (void)ctx; /* the caller opened it and closes it */
    return 0;
}

/* ---------------------------------------------------------------- fields */

/* A JSON string of valid UTF-8 text, or a failure naming the element. */
static json_t *text_value(struct reader *r, int line, const char *element, const char *s)
{
    if (!utf8_valid(s, strlen(s))) {
        fail_at(r, line, element, "text is not UTF-8");
        return NULL;
    }
    json_t *v = json_string(s);
    if (v == NULL) fail_at(r, line, element, "out of memory");
    return v;
}

static bool set_text(struct reader *r, json_t *object, const char *key, int line,
                     const char *element, const char *s)
{
    json_t *v = text_value(r, line, element, s);
    return v != NULL && json_object_set_new(object, key, v) == 0;
}

/*
 * Attribute name of the current element, trimmed, into out (limit bytes at
 * most): "" when absent. A longer value is refused: these are identifiers
 * and codes, which a cut would change.
 */
static bool attribute(struct reader *r, const char *element, const char *name, size_t limit,
                      char *out)
{
    out[0] = '\0';
    xmlChar *v = xmlTextReaderGetAttribute(r->xml, (const xmlChar *)name);
    if (v == NULL) return true;
    bool ok = trimmed((const char *)v, out, limit + 1);
    xmlFree(v);
    if (!ok) {
        out[0] = '\0';
        return fail_at(r, node_line(r), element, "attribute %s: longer than %zu bytes", name,
                       limit);
    }
    return true;
}

/* Sets object[key] to the attribute when it is there (non-empty). */
static bool attribute_into(struct reader *r, const char *element, const char *name,
                           size_t limit, json_t *object, const char *key)
{
    char value[IATI_IDENTIFIER_BYTES_MAX + 1];
    if (limit > IATI_IDENTIFIER_BYTES_MAX) limit = IATI_IDENTIFIER_BYTES_MAX;
    if (!attribute(r, element, name, limit, value)) return false;
    if (value[0] == '\0') return true;
    return set_text(r, object, key, node_line(r), element, value);
}

static void text_begin(struct reader *r, enum target target, size_t limit, bool strict)
{
    r->target = target;
    r->target_depth = r->depth;
    r->text_limit = limit;
    r->text_strict = strict;
    r->text_length = 0;
    r->text[0] = '\0';
}

static bool text_add(struct reader *r)
{
    const char *s = (const char *)xmlTextReaderConstValue(r->xml);
    if (s == NULL) return true;
    /* A value is text: whitespace before it is no reason to refuse it either. */
    if (r->text_strict && r->text_length == 0)
        while (xml_space(*s)) s++;
    size_t n = strlen(s);
    if (r->text_length + n > r->text_limit) {
        if (r->text_strict) {
            /* A value is text: trailing whitespace is no reason to refuse it. */
            size_t k = n;
            while (k > 0 && xml_space(s[k - 1])) k--;
            if (r->text_length + k > r->text_limit)
                return fail_at(r, node_line(r), r->open[r->target_depth < IATI_DEPTH_TRACKED
                                                            ? r->target_depth
                                                            : 0],
                               "longer than %zu bytes", r->text_limit);
            n = k;
        } else {
            /* Cut on a character boundary, and nothing added after: the text is full. */
            n = r->text_limit - r->text_length;
            while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
            r->text_limit = r->text_length + n;
        }
    }
    memcpy(r->text + r->text_length, s, n);
    r->text_length += n;
    r->text[r->text_length] = '\0';
    return true;
}

/* The gathered text, trimmed and cut to a character boundary, into buf. */
static void text_take(struct reader *r, char *buf, size_t size)
{
    cut_utf8(r->text, r->text_limit);
    trimmed(r->text, buf, size);
    r->target = T_NONE;
}

/* ---------------------------------------------------------------- activities */

static void tx_free_all(struct reader *r)
{
    for (size_t i = 0; i < r->tx_count; i++) json_decref(r->txs[i].op);
    r->tx_count = 0;
    r->tx = NULL;
}

static void activity_free(struct reader *r)
{
    json_decref(r->activity);
    r->activity = NULL;
    r->org = NULL;
    tx_free_all(r);
}

static bool activity_begin(struct reader *r)
{
    r->activity = json_object();
    if (r->activity == NULL) return fail_at(r, node_line(r), "iati-activity", "out of memory");
    r->activity_line = node_line(r);
    r->has_title = r->has_description = r->in_first_description = false;
    r->participating_more = 0;
    r->org = NULL;
    r->tx = NULL;
    r->tx_count = 0;
    if (!attribute(r, "iati-activity", "default-currency", IATI_CODE_BYTES_MAX,
                   r->default_currency))
        return false;
    if (r->default_currency[0] != '\0' &&
        !set_text(r, r->activity, "default_currency", r->activity_line, "iati-activity",
                  r->default_currency))
        return false;
    return attribute_into(r, "iati-activity", "humanitarian", IATI_CODE_BYTES_MAX, r->activity,
                          "humanitarian") &&
           attribute_into(r, "iati-activity", "hierarchy", IATI_CODE_BYTES_MAX, r->activity,
                          "hierarchy");
}

/* An organisation element's attributes into a new object set at key (or appended to list). */
static json_t *org_begin(struct reader *r, const char *element, const char *activity_attr)
{
    json_t *org = json_object();
    if (org == NULL) {
        fail_at(r, node_line(r), element, "out of memory");
        return NULL;
    }
    bool ok = attribute_into(r, element, "ref", IATI_REF_BYTES_MAX, org, "ref") &&
              attribute_into(r, element, "type", IATI_CODE_BYTES_MAX, org, "type");
    if (ok && activity_attr != NULL)
        ok = attribute_into(r, element, activity_attr, IATI_IDENTIFIER_BYTES_MAX, org,
                            "activity_id");
    if (!ok) {
        json_decref(org);
        return NULL;
    }
    return org;
}

static bool participating_begin(struct reader *r)
{
    json_t *list = json_object_get(r->activity, "participating");
    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(r->activity, "participating", list) != 0)
            return fail_at(r, node_line(r), "participating-org", "out of memory");
    }
    if (json_array_size(list) >= IATI_PARTICIPANTS_KEPT) {
        r->participating_more++;
        return true;
    }
    json_t *org = org_begin(r, "participating-org", "activity-id");
    if (org == NULL) return false;
    if (json_array_append_new(list, org) != 0)
        return fail_at(r, node_line(r), "participating-org", "out of memory");
    if (!attribute_into(r, "participating-org", "role", IATI_CODE_BYTES_MAX, org, "role"))
        return false;
    r->org = org;
    return true;
}

static bool activity_date(struct reader *r)
{
    json_t *list = json_object_get(r->activity, "activity_dates");
    if (list == NULL) {
        list = json_array();
        if (list == NULL || json_object_set_new(r->activity, "activity_dates", list) != 0)
            return fail_at(r, node_line(r), "activity-date", "out of memory");
    }
    if (json_array_size(list) >= IATI_DATES_KEPT) return true;
    json_t *d = json_object();
    if (d == NULL || json_array_append_new(list, d) != 0)
        return fail_at(r, node_line(r), "activity-date", "out of memory");
    return attribute_into(r, "activity-date", "type", IATI_CODE_BYTES_MAX, d, "type") &&
           attribute_into(r, "activity-date", "iso-date", IATI_CODE_BYTES_MAX, d, "iso_date");
}

/* ---------------------------------------------------------------- transactions */

static bool tx_begin(struct reader *r)
{
    if (r->tx_count == r->tx_capacity) {
        size_t capacity = r->tx_capacity ? r->tx_capacity * 2 : 16;
        struct tx *txs = realloc(r->txs, capacity * sizeof *txs);
        if (txs == NULL) return fail_at(r, node_line(r), "transaction", "out of memory");
        r->txs = txs;
        r->tx_capacity = capacity;
    }
    struct tx *tx = &r->txs[r->tx_count++];
    memset(tx, 0, sizeof *tx);
    tx->line = node_line(r);
    tx->position = (int64_t)r->tx_count;
    tx->op = json_object();
    r->tx = tx;
    r->tx_has_description = false;
    if (tx->op == NULL) return fail_at(r, tx->line, "transaction", "out of memory");
    return attribute_into(r, "transaction", "ref", IATI_REF_BYTES_MAX, tx->op, "ref") &&
           attribute_into(r, "transaction", "humanitarian", IATI_CODE_BYTES_MAX, tx->op,
                          "humanitarian");
}

/* The transaction's classifications object, made when first needed. */
static json_t *classifications(struct reader *r)
{
    json_t *c = json_object_get(r->tx->op, "classifications");
    if (c == NULL) {
        c = json_object();
        if (c == NULL || json_object_set_new(r->tx->op, "classifications", c) != 0) return NULL;
    }
    return c;
}

/* A code element (flow-type, …) into classifications[key]. */
static bool tx_code(struct reader *r, const char *element, const char *key)
{
    json_t *c = classifications(r);
    if (c == NULL) return fail_at(r, node_line(r), element, "out of memory");
    return attribute_into(r, element, "code", IATI_CODE_BYTES_MAX, c, key);
}

/* A {code, vocabulary} element (sector, aid-type, recipient-region) into classifications. */
static bool tx_coded(struct reader *r, const char *element, const char *key, bool list)
{
    json_t *c = classifications(r);
    if (c == NULL) return fail_at(r, node_line(r), element, "out of memory");
    json_t *item = json_object();
    if (item == NULL) return fail_at(r, node_line(r), element, "out of memory");
    if (!attribute_into(r, element, "code", IATI_CODE_BYTES_MAX, item, "code") ||
        !attribute_into(r, element, "vocabulary", IATI_CODE_BYTES_MAX, item, "vocabulary")) {
        json_decref(item);
        return false;
    }
    if (!list) return json_object_set_new(c, key, item) == 0;
    json_t *items = json_object_get(c, key);
    if (items == NULL) {
        items = json_array();
        if (items == NULL || json_object_set_new(c, key, items) != 0) {
            json_decref(item);
            return fail_at(r, node_line(r), element, "out of memory");
        }
    }
    if (json_array_size(items) >= IATI_CODES_KEPT) {
        json_decref(item);
        return true;
    }
    return json_array_append_new(items, item) == 0;
}

/* A transaction's child element. */
static bool tx_child(struct reader *r, const char *name)
{
    struct tx *tx = r->tx;
    if (strcmp(name, "transaction-type") == 0)
        return attribute(r, name, "code", IATI_CODE_BYTES_MAX, tx->type);
    if (strcmp(name, "transaction-date") == 0) {
        tx->date_line = node_line(r);
        return attribute(r, name, "iso-date", IATI_CODE_BYTES_MAX, tx->date);
    }
    if (strcmp(name, "value") == 0) {
        tx->value_line = node_line(r);
        if (!attribute(r, name, "currency", IATI_CODE_BYTES_MAX, tx->currency) ||
            !attribute(r, name, "value-date", IATI_CODE_BYTES_MAX, tx->value_date))
            return false;
        text_begin(r, T_VALUE, IATI_VALUE_BYTES_MAX, true);
        return true;
    }
    if (strcmp(name, "provider-org") == 0 || strcmp(name, "receiver-org") == 0) {
        bool provider = name[0] == 'p';
        json_t *org = org_begin(r, name, provider ? "provider-activity-id"
                                                  : "receiver-activity-id");
        if (org == NULL ||
            json_object_set_new(tx->op, provider ? "provider" : "receiver", org) != 0)
            return false;
        if (provider) tx->has_provider = true;
        else tx->has_receiver = true;
        r->org = org;
        return true;
    }
    if (strcmp(name, "disbursement-channel") == 0)
        return tx_code(r, name, "disbursement_channel");
    if (strcmp(name, "flow-type") == 0) return tx_code(r, name, "flow_type");
    if (strcmp(name, "finance-type") == 0) return tx_code(r, name, "finance_type");
    if (strcmp(name, "tied-status") == 0) return tx_code(r, name, "tied_status");
    if (strcmp(name, "recipient-country") == 0) return tx_code(r, name, "recipient_country");
    if (strcmp(name, "sector") == 0) return tx_coded(r, name, "sectors", true);
    if (strcmp(name, "aid-type") == 0) return tx_coded(r, name, "aid_types", true);
    if (strcmp(name, "recipient-region") == 0)
        return tx_coded(r, name, "recipient_region", false);
    return true; /* description is read by its narrative */
}

static void skip(struct reader *r, int line, const char *element, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void skip(struct reader *r, int line, const char *element, const char *fmt, ...)
{
    char reason[IATI_MESSAGE_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    utf8_truncate(reason);
    if (r->sink->skipped != NULL) r->sink->skipped(r->sink->ctx, line, element, reason);
}

/* "YYYY-MM-DD" of an xsd:date (its time zone, if any, dropped); false when not one. */
static bool date_part(const char *text, char out[IATI_DATE_BYTES + 1])
{
    size_t n = strlen(text);
    if (n < IATI_DATE_BYTES) return false;
    const char *zone = text + IATI_DATE_BYTES;
    bool zone_ok = *zone == '\0' || strcmp(zone, "Z") == 0 ||
                   ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 6 && zone[3] == ':');
    if (!zone_ok) return false;
    memcpy(out, text, IATI_DATE_BYTES);
    out[IATI_DATE_BYTES] = '\0';
    int64_t ns;
    bool date_only;
    return time_parse(out, &ns, &date_only) && date_only;
}

/* The reporting organisation as a transaction's side (what IATI assumes when one is missing). */
static json_t *reporter(struct reader *r)
{
    json_t *org = json_object_get(r->activity, "reporting_org");
    json_t *copy = org != NULL ? json_deep_copy(org) : json_object();
    return copy;
}

/* A closing transaction: recorded as what, or skipped, or the file refused. */
static bool tx_end(struct reader *r)
{
    struct tx *tx = r->tx;
    r->tx = NULL;
    r->org = NULL;
    int code = 0;
    bool digits = tx->type[0] != '\0' && strlen(tx->type) <= 2;
    for (const char *p = tx->type; digits && *p; p++) digits = *p >= '0' && *p <= '9';
    if (digits) code = atoi(tx->type);
    const struct iati_type *type = digits && tx->type[0] != '0' ? iati_type_of(code) : NULL;
    if (type == NULL) {
        tx->skipped = true;
        skip(r, tx->line, "transaction",
             "transaction-type code \"%s\" is not one of IATI 2.03's transaction types (1 to "
             "13): not recorded",
             tx->type);
        return true;
    }
    int line = tx->value_line > 0 ? tx->value_line : tx->line;
    const char *currency = tx->currency[0] != '\0' ? tx->currency : r->default_currency;
    if (currency[0] == '\0')
        return fail_at(r, line, "value",
                       "no currency: neither value/@currency nor the activity's "
                       "@default-currency is given");
    if (iati_currency_minor_units(currency) < 0)
        return fail_at(r, line, "value", "currency \"%s\" is not an ISO 4217 currency code",
                       currency);
    char canonical[IATI_VALUE_BYTES_MAX + 2];
    if (!iati_decimal_canonical(tx->value, canonical))
        return fail_at(r, line, "value", "\"%s\" is not a decimal number", tx->value);
    if (strcmp(canonical, "0") == 0) {
        tx->skipped = true;
        skip(r, line, "value", "a value of 0: the ledger records no zero amounts");
        return true;
    }
    char date[IATI_DATE_BYTES + 1];
    int date_line = tx->date_line > 0 ? tx->date_line : tx->line;
    if (tx->date[0] == '\0')
        return fail_at(r, tx->line, "transaction", "transaction-date is required");
    if (!date_part(tx->date, date))
        return fail_at(r, date_line, "transaction-date",
                       "iso-date \"%s\" must be a date from %d to %d", tx->date, TIME_YEAR_MIN,
                       TIME_YEAR_MAX);
    char value_date[IATI_DATE_BYTES + 1];
    if (tx->value_date[0] == '\0') {
        memcpy(value_date, date, sizeof value_date);
    } else if (!date_part(tx->value_date, value_date)) {
        return fail_at(r, line, "value", "value-date \"%s\" must be a date from %d to %d",
                       tx->value_date, TIME_YEAR_MIN, TIME_YEAR_MAX);
    }
    memcpy(tx->value, canonical, sizeof canonical);
    bool ok = json_object_set_new(tx->op, "type", json_integer(code)) == 0 &&
              set_text(r, tx->op, "currency", line, "value", currency) &&
              set_text(r, tx->op, "value", line, "value", canonical) &&
              set_text(r, tx->op, "value_date", line, "value", value_date) &&
              set_text(r, tx->op, "date", date_line, "transaction-date", date);
    /* IATI: a missing provider of outgoing funds, or receiver of incoming, is the reporter. */
    if (ok && type->incoming && !tx->has_receiver)
        ok = json_object_set_new(tx->op, "receiver", reporter(r)) == 0;
    if (ok && !type->incoming && !tx->has_provider)
        ok = json_object_set_new(tx->op, "provider", reporter(r)) == 0;
    if (ok && json_object_get(tx->op, "provider") == NULL)
        ok = json_object_set_new(tx->op, "provider", json_object()) == 0;
    if (ok && json_object_get(tx->op, "receiver") == NULL)
        ok = json_object_set_new(tx->op, "receiver", json_object()) == 0;
    if (!ok) return fail_at(r, tx->line, "transaction", "out of memory");
    tx->value_line = line;
    return true;
}

/* The pair of a transaction, when it is one side's report of a flow between two activities. */
static bool tx_pair(struct reader *r, struct tx *tx, const char *identifier, json_t *ordinals)
{
    json_int_t code = json_integer_value(json_object_get(tx->op, "type"));
    const struct iati_type *type = iati_type_of((int)code);
    if (type == NULL || type->side == 0) return true;
    const json_t *counterpart = json_object_get(
        json_object_get(tx->op, type->side == 'p' ? "receiver" : "provider"), "activity_id");
    const char *other = json_string_value(counterpart);
    if (other == NULL || other[0] == '\0' || strcmp(other, identifier) == 0) return true;
    const char *provider = type->side == 'p' ? identifier : other;
    const char *receiver = type->side == 'p' ? other : identifier;
    const char *currency = json_string_value(json_object_get(tx->op, "currency"));
    /* The k-th report of this flow's (activities, stage, currency, value) in the activity. */
    char seen[2 * IATI_IDENTIFIER_BYTES_MAX + 2 * IATI_VALUE_BYTES_MAX + 32];
    snprintf(seen, sizeof seen, "%s\x1f%s\x1f%s\x1f%s\x1f%s", provider, receiver, type->stage,
             currency, tx->value);
    int64_t ordinal = json_integer_value(json_object_get(ordinals, seen)) + 1;
    char key[33];
    iati_pair_key(provider, receiver, type->stage, currency, tx->value, ordinal, key);
    char id[IATI_ID_BYTES_MAX + 1];
    json_t *pair = json_pack("{s:s,s:s,s:s,s:s,s:I}", "key", key, "side",
                             type->side == 'p' ? "provider" : "recipient", "provider_activity",
                             provider, "receiver_activity", receiver, "ordinal",
                             (json_int_t)ordinal);
    if (pair == NULL || json_object_set_new(ordinals, seen, json_integer(ordinal)) != 0 ||
        json_object_set_new(tx->op, "pair", pair) != 0 ||
        !iati_pair_id(id, sizeof id, key, type->side) ||
        json_object_set_new(tx->op, "id", json_string(id)) != 0)
        return fail_at(r, tx->line, "transaction", "out of memory");
    return true;
}

/* The activity's operation held under the ledger's limit: participants beyond it are counted. */
static bool activity_fit(struct reader *r)
{
    json_t *list = json_object_get(r->activity, "participating");
    for (;;) {
        if (r->participating_more > 0)
            json_object_set_new(r->activity, "participating_more",
                                json_integer(r->participating_more));
        char *text = json_dumps(r->activity, JSON_COMPACT | JSON_SORT_KEYS);
        if (text == NULL) return fail_at(r, r->activity_line, "iati-activity", "out of memory");
        size_t n = strlen(text);
        free(text);
        if (n <= IATI_OP_BYTES_MAX) return true;
        size_t count = json_array_size(list);
        if (count <= 1)
            return fail_at(r, r->activity_line, "iati-activity",
                           "its details are over %d bytes", IATI_OP_BYTES_MAX);
        json_array_remove(list, count - 1);
        r->participating_more++;
    }
}

/* A closing activity: its operations to the sink, or skipped. */
static bool activity_end(struct reader *r)
{
    const char *identifier = json_string_value(json_object_get(r->activity, "identifier"));
    bool ok = true;
    if (identifier == NULL || identifier[0] == '\0') {
        skip(r, r->activity_line, "iati-activity",
             "iati-identifier is empty: nothing of the activity can be keyed, so nothing of it "
             "is recorded");
        activity_free(r);
        return true;
    }
    char id[IATI_ID_BYTES_MAX + 1];
    if (!iati_activity_record_id(id, sizeof id, identifier))
        return fail_at(r, r->activity_line, "iati-activity", "its identifier cannot be keyed");
    if (json_object_get(r->activity, "reporting_org") == NULL)
        return fail_at(r, r->activity_line, "iati-activity", "reporting-org is required");
    ok = json_object_set_new(r->activity, "op", json_string("iati_activity")) == 0 &&
         json_object_set_new(r->activity, "id", json_string(id)) == 0 && activity_fit(r);
    if (!ok) return fail_at(r, r->activity_line, "iati-activity", "out of memory");
    /* Refs that name one transaction each can key them; repeated ones cannot. */
    json_t *refs = json_object(), *ordinals = json_object();
    struct iati_transaction_read *reads = calloc(r->tx_count ? r->tx_count : 1, sizeof *reads);
    if (refs == NULL || ordinals == NULL || reads == NULL)
        ok = fail_at(r, r->activity_line, "iati-activity", "out of memory");
    for (size_t i = 0; ok && i < r->tx_count; i++) {
        const char *ref = json_string_value(json_object_get(r->txs[i].op, "ref"));
        if (!r->txs[i].skipped && ref != NULL && iati_ref_keyable(ref))
            json_object_set_new(refs, ref,
                                json_integer(json_integer_value(json_object_get(refs, ref)) + 1));
    }
    size_t count = 0;
    for (size_t i = 0; ok && i < r->tx_count; i++) {
        struct tx *tx = &r->txs[i];
        if (tx->skipped) continue;
        const char *ref = json_string_value(json_object_get(tx->op, "ref"));
        bool by_ref = ref != NULL && json_integer_value(json_object_get(refs, ref)) == 1;
        ok = iati_transaction_id(id, sizeof id, identifier, by_ref ? ref : NULL, tx->position) &&
             json_object_set_new(tx->op, "op", json_string("iati_transaction")) == 0 &&
             json_object_set_new(tx->op, "id", json_string(id)) == 0 &&
             json_object_set_new(tx->op, "activity", json_string(identifier)) == 0 &&
             json_object_set_new(tx->op, "position", json_integer(tx->position)) == 0 &&
             tx_pair(r, tx, identifier, ordinals);
        if (!ok) {
            fail_at(r, tx->line, "transaction", "out of memory");
            break;
        }
        reads[count++] = (struct iati_transaction_read){
            .op = tx->op,
            .value = tx->value,
            .currency = json_string_value(json_object_get(tx->op, "currency")),
            .line = tx->value_line};
    }
    json_decref(refs);
    json_decref(ordinals);
    if (ok) {
        struct iati_activity_read read = {.op = r->activity, .line = r->activity_line,
                                          .transactions = reads, .count = count};
        char message[IATI_MESSAGE_BYTES] = "";
        if (!r->sink->activity(r->sink->ctx, &read, message, sizeof message)) {
            r->failed = true;
            r->failed_line = r->activity_line;
            snprintf(r->message, r->size, "%s", message[0] ? message : "refused");
            ok = false;
        }
    }
    free(reads);
    activity_free(r);
    return ok;
}

/* ---------------------------------------------------------------- the walk */

static bool parent_is(const struct reader *r, int up, const char *name)
{
    int d = r->depth - up;
    return d >= 0 && d < IATI_DEPTH_TRACKED && strcmp(r->open[d], name) == 0;
}

/* An element of the activity itself (depth 2). */
/*
 * The publisher's own identifier of the activity (the first other-identifier
 * of type A1 whose ref can be kept): concord's export writes
 * "<account>@<its log's name>" there, by which an import knows a ledger's
 * own funding coming back (app/interop_iati.c). Another publisher's may be
 * anything: one empty or too long to keep is passed over, not refused.
 */
static bool internal_id(struct reader *r)
{
    if (json_object_get(r->activity, "internal_id") != NULL) return true;
    xmlChar *type = xmlTextReaderGetAttribute(r->xml, (const xmlChar *)"type");
    bool a1 = type != NULL && strcmp((const char *)type, "A1") == 0;
    xmlFree(type);
    if (!a1) return true;
    xmlChar *v = xmlTextReaderGetAttribute(r->xml, (const xmlChar *)"ref");
    char ref[IATI_INTERNAL_ID_BYTES_MAX + 1];
    bool kept = v != NULL && trimmed((const char *)v, ref, sizeof ref) && ref[0] != '\0';
    xmlFree(v);
    return !kept || set_text(r, r->activity, "internal_id", node_line(r), "other-identifier", ref);
}

static bool activity_child(struct reader *r, const char *name)
{
    if (strcmp(name, "iati-identifier") == 0) {
        text_begin(r, T_IDENTIFIER, IATI_IDENTIFIER_BYTES_MAX, true);
        return true;
    }
    if (strcmp(name, "reporting-org") == 0) {
        json_t *org = org_begin(r, name, NULL);
        if (org == NULL || json_object_set_new(r->activity, "reporting_org", org) != 0)
            return false;
        r->org = org;
        return true;
    }
    if (strcmp(name, "participating-org") == 0) return participating_begin(r);
    if (strcmp(name, "other-identifier") == 0) return internal_id(r);
    if (strcmp(name, "activity-status") == 0)
        return attribute_into(r, name, "code", IATI_CODE_BYTES_MAX, r->activity,
                              "activity_status");
    if (strcmp(name, "activity-date") == 0) return activity_date(r);
    if (strcmp(name, "description") == 0) r->in_first_description = !r->has_description;
    if (strcmp(name, "transaction") == 0) return tx_begin(r);
    return true;
}

/* A narrative: gathered when it is the first with text of something concord keeps. */
static void narrative(struct reader *r)
{
    if (parent_is(r, 1, "reporting-org") || parent_is(r, 1, "participating-org") ||
        parent_is(r, 1, "provider-org") || parent_is(r, 1, "receiver-org")) {
        if (r->org != NULL && json_object_get(r->org, "name") == NULL)
            text_begin(r, T_ORG_NAME, IATI_NAME_BYTES_MAX, false);
    } else if (r->depth == 3 && parent_is(r, 1, "title") && !r->has_title) {
        text_begin(r, T_TITLE, IATI_NAME_BYTES_MAX, false);
    } else if (r->depth == 3 && parent_is(r, 1, "description") && r->in_first_description &&
               !r->has_description) {
        text_begin(r, T_DESCRIPTION, IATI_TEXT_BYTES_MAX, false);
    } else if (r->depth == 4 && parent_is(r, 1, "description") && parent_is(r, 2, "transaction") &&
               r->tx != NULL && !r->tx_has_description) {
        text_begin(r, T_TX_DESCRIPTION, IATI_TEXT_BYTES_MAX, false);
    }
}

static bool on_start(struct reader *r, const char *name, bool foreign)
{
    if (r->depth < IATI_DEPTH_TRACKED) { /* a long name is cut on a character boundary */
        snprintf(r->open[r->depth], IATI_NAME_SEEN_BYTES, "%s", foreign ? "" : name);
        utf8_truncate(r->open[r->depth]);
    }
    if (foreign) return true; /* an extension: not IATI's, not mapped */
    if (r->depth == 0) {
        if (strcmp(name, "iati-activities") != 0)
            return fail_at(r, node_line(r), name,
                           "not an IATI activities file: the root element must be "
                           "iati-activities");
        return true;
    }
    if (r->validate_only) return true;
    if (r->depth == 1 && strcmp(name, "iati-activity") == 0 && parent_is(r, 1, "iati-activities"))
        return activity_begin(r);
    if (r->activity == NULL) return true;
    if (r->depth == 2 && parent_is(r, 1, "iati-activity")) return activity_child(r, name);
    if (strcmp(name, "narrative") == 0) {
        narrative(r);
        return true;
    }
    if (r->depth == 3 && r->tx != NULL && parent_is(r, 1, "transaction")) return tx_child(r, name);
    return true;
}

/* The gathered text to its field. */
static bool text_end(struct reader *r)
{
    char text[IATI_TEXT_BYTES_MAX + 8];
    enum target target = r->target;
    text_take(r, text, sizeof text);
    int line = node_line(r);
    switch (target) {
    case T_IDENTIFIER:
        return set_text(r, r->activity, "identifier", line, "iati-identifier", text);
    case T_VALUE:
        if (r->tx != NULL && strlen(text) < sizeof r->tx->value) /* strict: it fits */
            memcpy(r->tx->value, text, strlen(text) + 1);
        return true;
    case T_ORG_NAME:
        if (text[0] == '\0' || r->org == NULL) return true;
        return set_text(r, r->org, "name", line, "narrative", text);
    case T_TITLE:
        if (text[0] == '\0') return true;
        r->has_title = true;
        return set_text(r, r->activity, "title", line, "narrative", text);
    case T_DESCRIPTION:
        if (text[0] == '\0') return true;
        r->has_description = true;
        return set_text(r, r->activity, "description", line, "narrative", text);
    case T_TX_DESCRIPTION:
        if (text[0] == '\0' || r->tx == NULL) return true;
        r->tx_has_description = true;
        return set_text(r, r->tx->op, "description", line, "narrative", text);
    case T_NONE: break;
    }
    return true;
}

static bool on_end(struct reader *r)
{
    if (r->validate_only) return true;
    if (r->target != T_NONE && r->depth == r->target_depth && !text_end(r)) return false;
    const char *name = r->depth < IATI_DEPTH_TRACKED ? r->open[r->depth] : "";
    if (r->activity == NULL) return true;
    if (r->depth == 1 && strcmp(name, "iati-activity") == 0) return activity_end(r);
    if (r->depth == 2 && strcmp(name, "transaction") == 0 && r->tx != NULL) return tx_end(r);
    if (r->depth == 2 && strcmp(name, "description") == 0) r->in_first_description = false;
    if ((r->depth == 2 && (strcmp(name, "reporting-org") == 0 ||
                           strcmp(name, "participating-org") == 0)) ||
        (r->depth == 3 && (strcmp(name, "provider-org") == 0 || strcmp(name, "receiver-org") == 0)))
        r->org = NULL;
    return true;
}

static bool walk(struct reader *r)
{
    int rc;
    while ((rc = xmlTextReaderRead(r->xml)) == 1 && invalid_settle(r)) {
        int type = xmlTextReaderNodeType(r->xml);
        r->depth = xmlTextReaderDepth(r->xml);
        switch (type) {
        case XML_READER_TYPE_ELEMENT: {
            const char *name = (const char *)xmlTextReaderConstLocalName(r->xml);
            bool foreign = xmlTextReaderConstNamespaceUri(r->xml) != NULL;
            if (name == NULL || !on_start(r, name, foreign)) return false;
            if (xmlTextReaderIsEmptyElement(r->xml) && !on_end(r)) return false;
            break;
        }
        case XML_READER_TYPE_END_ELEMENT:
            if (!on_end(r)) return false;
            break;
        case XML_READER_TYPE_TEXT:
        case XML_READER_TYPE_CDATA:
        case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
        case XML_READER_TYPE_WHITESPACE:
            if (!r->validate_only && r->target != T_NONE && r->depth == r->target_depth + 1 &&
                !text_add(r))
                return false;
            break;
        case XML_READER_TYPE_DOCUMENT_TYPE:
            /* Entity declarations live in a DTD: refused before any can be used. */
            return fail_at(r, node_line(r), "!DOCTYPE",
                           "a document type declaration is not accepted in an IATI file");
        case XML_READER_TYPE_ENTITY_REFERENCE:
            return fail_at(r, node_line(r), innermost(r), "entity references are not accepted");
        default: break;
        }
    }
    if (r->failed) return false;
    if (rc < 0) return fail_at(r, xmlTextReaderGetParserLineNumber(r->xml), innermost(r),
                               "not well-formed XML");
    return invalid_settle(r);
}

/*
 * Does the document's prolog (before its first element) hold a document type
 * declaration? The schema's validator stops at one with an error about its
 * own source, so the reader says what it is first.
 */
/* The first place of needle (k bytes) in p[from, n), or n. */
static size_t find(const char *p, size_t from, size_t n, const char *needle, size_t k)
{
    for (size_t i = from; i + k <= n; i++)
        if (memcmp(p + i, needle, k) == 0) return i;
    return n;
}

static bool prolog_doctype(const char *p, size_t n, int *line)
{
    size_t i = n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < n) {
        if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n') {
            i++;
        } else if (n - i >= 2 && memcmp(p + i, "<?", 2) == 0) {
            size_t end = find(p, i, n, "?>", 2);
            if (end == n) return false;
            i = end + 2;
        } else if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
            size_t end = find(p, i, n, "-->", 3);
            if (end == n) return false;
            i = end + 3;
        } else {
            if (n - i < 9 || memcmp(p + i, "<!DOCTYPE", 9) != 0) return false;
            *line = 1;
            for (size_t k = 0; k < i; k++) *line += p[k] == '\n';
            return true;
        }
    }
    return false;
}

/* The first bytes of the source, for prolog_doctype. */
static bool source_doctype(const struct iati_source *source, int *line)
{
    if (source->file == NULL) return prolog_doctype(source->data, source->size, line);
    char head[8192];
    ssize_t got = pread(fileno(source->file), head, sizeof head, 0);
    return got > 0 && prolog_doctype(head, (size_t)got, line);
}

/* iati_read(), or with sink NULL iati_validate(). */
static bool read_source(const struct iati_source *source, const struct iati_schema *schema,
                        const struct iati_sink *sink, char *message, size_t size, int *line)
{
    assert(source != NULL && source->name != NULL);
    assert(message != NULL && size > 0);
    message[0] = '\0';
    int unused;
    if (line == NULL) line = &unused;
    *line = 0;
    int doctype_line;
    if (source_doctype(source, &doctype_line)) {
        *line = doctype_line;
        snprintf(message, size, "%s:%d: element !DOCTYPE: a document type declaration is not "
                 "accepted in an IATI file (it could declare entities)", source->name,
                 doctype_line);
        return false;
    }
    xmlInitParser();
    struct reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        snprintf(message, size, "%s: out of memory", source->name);
        return false;
    }
    r->sink = sink;
    r->validate_only = sink == NULL;
    r->name = source->name;
    r->message = message;
    r->size = size;
    r->file = source->file;
    struct saved_errors saved = errors_capture(on_xml_error, on_generic_error, r);
    /* No network, no DTD loading, no entity substitution: the document and nothing else. */
    int options = XML_PARSE_NONET | XML_PARSE_BIG_LINES;
    if (source->file != NULL) {
        r->xml = xmlReaderForIO(read_file, close_file, r, source->name, NULL, options);
    } else {
        if (source->size > (size_t)INT32_MAX) {
            snprintf(message, size, "%s: larger than %d bytes", source->name, INT32_MAX);
            errors_restore(saved);
            free(r);
            return false;
        }
        r->xml = xmlReaderForMemory(source->data, (int)source->size, source->name, NULL, options);
    }
    bool ok = r->xml != NULL;
    xmlSchemaValidCtxtPtr valid = NULL;
    if (!ok) {
        snprintf(message, size, "%s: cannot be read", source->name);
    } else {
        xmlTextReaderSetStructuredErrorHandler(r->xml, on_xml_error, r);
        if (schema != NULL) {
            valid = xmlSchemaNewValidCtxt(schema->xsd);
            ok = valid != NULL;
            if (ok) {
                xmlSchemaSetValidStructuredErrors(valid, on_xml_error, r);
                ok = xmlTextReaderSchemaValidateCtxt(r->xml, valid, 0) == 0;
            }
            if (!ok) snprintf(message, size, "%s: the schema could not be applied", source->name);
        }
    }
    if (ok) ok = walk(r);
    /* Whatever the validator decided and did not say (it says, but a silent refusal is none). */
    if (ok && schema != NULL && xmlTextReaderIsValid(r->xml) != 1)
        ok = fail_at(r, xmlTextReaderGetParserLineNumber(r->xml), innermost(r),
                     "not valid IATI 2.03");
    if (ok && r->open[0][0] == '\0')
        ok = fail_at(r, 0, "(document)", "no iati-activities element");
    if (!ok) *line = r->failed_line;
    activity_free(r);
    free(r->txs);
    if (r->xml != NULL) xmlFreeTextReader(r->xml);
    if (valid != NULL) xmlSchemaFreeValidCtxt(valid);
    errors_restore(saved);
    free(r);
    return ok;
}

bool iati_read(const struct iati_source *source, const struct iati_schema *schema,
               const struct iati_sink *sink, char *message, size_t size, int *line)
{
    assert(sink != NULL && sink->activity != NULL);
    return read_source(source, schema, sink, message, size, line);
}

bool iati_validate(const struct iati_source *source, const struct iati_schema *schema,
                   char *message, size_t size, int *line)
{
    assert(schema != NULL);
    return read_source(source, schema, NULL, message, size, line);
}

/* ---------------------------------------------------------------- writer */

struct iati_writer {
    xmlTextWriterPtr xml;
    iati_write_fn write;
    void *ctx;
    bool failed;
    size_t activities; /* written so far: the document starts with the first */
};

static int write_out(void *ctx, const char *buffer, int length)
{
    struct iati_writer *w = ctx;
    if (length < 0 || !w->write(w->ctx, buffer, (size_t)length)) {
        w->failed = true;
        return -1;
    }
    return length;
}

static int write_close(void *ctx)
{
    (void)ctx;
    return 0;
}

struct iati_writer *iati_writer_open(iati_write_fn write, void *ctx)
{
    xmlInitParser();
    struct iati_writer *w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    w->write = write;
    w->ctx = ctx;
    xmlOutputBufferPtr out = xmlOutputBufferCreateIO(write_out, write_close, w, NULL);
    if (out == NULL) {
        free(w);
        return NULL;
    }
    w->xml = xmlNewTextWriter(out); /* owns out from here */
    if (w->xml == NULL) {
        xmlOutputBufferClose(out);
        free(w);
        return NULL;
    }
    xmlTextWriterSetIndent(w->xml, 1);
    xmlTextWriterSetIndentString(w->xml, (const xmlChar *)"  ");
    return w;
}

/* The document's start, before its first activity: a document without one is not IATI. */
static bool w_document(struct iati_writer *w)
{
    if (w->activities++ > 0) return !w->failed;
    if (xmlTextWriterStartDocument(w->xml, "1.0", "UTF-8", NULL) < 0 ||
        xmlTextWriterStartElement(w->xml, (const xmlChar *)"iati-activities") < 0 ||
        xmlTextWriterWriteAttribute(w->xml, (const xmlChar *)"version",
                                    (const xmlChar *)"2.03") < 0)
        w->failed = true;
    return !w->failed;
}

size_t iati_writer_activities(const struct iati_writer *w)
{
    return w->activities;
}

/*
 * Text as XML 1.0 can carry it: the C0 controls other than tab, newline and
 * carriage return are not characters of XML, so they become U+FFFD, the
 * replacement character. out: at least 3 × strlen(s) + 1 bytes.
 */
static const xmlChar *xml_text(const char *s, char *out)
{
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return (const xmlChar *)out;
}

static bool w_start(struct iati_writer *w, const char *element)
{
    if (xmlTextWriterStartElement(w->xml, (const xmlChar *)element) < 0) w->failed = true;
    return !w->failed;
}

static bool w_end(struct iati_writer *w)
{
    if (xmlTextWriterEndElement(w->xml) < 0) w->failed = true;
    return !w->failed;
}

/* An attribute from a string member, when it is there and not empty. */
static bool w_attr(struct iati_writer *w, const char *name, const json_t *object, const char *key)
{
    const char *s = json_string_value(json_object_get(object, key));
    if (s == NULL || s[0] == '\0') return !w->failed;
    char *text = malloc(3 * strlen(s) + 1);
    if (text == NULL ||
        xmlTextWriterWriteAttribute(w->xml, (const xmlChar *)name, xml_text(s, text)) < 0)
        w->failed = true;
    free(text);
    return !w->failed;
}

static bool w_attr_text(struct iati_writer *w, const char *name, const char *value)
{
    if (xmlTextWriterWriteAttribute(w->xml, (const xmlChar *)name, (const xmlChar *)value) < 0)
        w->failed = true;
    return !w->failed;
}

/* <element><narrative>text</narrative></element>; an empty narrative when text is NULL. */
static bool w_narrative(struct iati_writer *w, const char *text)
{
    char *escaped = malloc(3 * strlen(text != NULL ? text : "") + 1);
    bool ok = escaped != NULL && w_start(w, "narrative") &&
              xmlTextWriterWriteString(w->xml, xml_text(text != NULL ? text : "", escaped)) >= 0 &&
              w_end(w);
    free(escaped);
    if (!ok) w->failed = true;
    return ok;
}

static bool w_text_element(struct iati_writer *w, const char *element, const char *text)
{
    return w_start(w, element) && w_narrative(w, text) && w_end(w);
}

/* A code element: <flow-type code="10"/>, from classifications[key]. */
static bool w_code(struct iati_writer *w, const json_t *c, const char *element, const char *key)
{
    const json_t *v = json_object_get(c, key);
    if (json_is_string(v) && json_string_length(v) > 0) {
        if (!w_start(w, element) || !w_attr(w, "code", c, key) || !w_end(w)) return false;
    } else if (json_is_object(v) && json_is_string(json_object_get(v, "code"))) {
        if (!w_start(w, element) || !w_attr(w, "code", v, "code") ||
            !w_attr(w, "vocabulary", v, "vocabulary") || !w_end(w))
            return false;
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item) {
            if (!json_is_string(json_object_get(item, "code"))) continue;
            if (!w_start(w, element) || !w_attr(w, "code", item, "code") ||
                !w_attr(w, "vocabulary", item, "vocabulary") || !w_end(w))
                return false;
        }
    }
    return !w->failed;
}

/* An organisation; an empty one too, since a missing one would read as the reporter. */
static bool w_org(struct iati_writer *w, const char *element, const json_t *org,
                  const char *activity_attr)
{
    if (!json_is_object(org)) return !w->failed;
    if (!w_start(w, element) || !w_attr(w, "ref", org, "ref") ||
        !w_attr(w, activity_attr, org, "activity_id") || !w_attr(w, "type", org, "type"))
        return false;
    const char *name = json_string_value(json_object_get(org, "name"));
    if (name != NULL && name[0] != '\0' && !w_narrative(w, name)) return false;
    return w_end(w);
}

/* Digits, or "true"/"false": what xsd:int and xsd:boolean attributes need. */
static bool looks_boolean(const json_t *v)
{
    const char *s = json_string_value(v);
    return s != NULL && (strcmp(s, "0") == 0 || strcmp(s, "1") == 0 || strcmp(s, "true") == 0 ||
                         strcmp(s, "false") == 0);
}

static bool looks_int(const json_t *v)
{
    const char *s = json_string_value(v);
    if (s == NULL || s[0] == '\0' || strlen(s) > 9) return false;
    for (const char *p = s[0] == '-' ? s + 1 : s; *p; p++)
        if (*p < '0' || *p > '9') return false;
    return s[0] != '-' || s[1] != '\0';
}

static bool w_transaction(struct iati_writer *w, const json_t *t, char *message, size_t size)
{
    char code[8];
    json_int_t type = json_integer_value(json_object_get(t, "type"));
    const char *value = json_string_value(json_object_get(t, "value"));
    const char *date = json_string_value(json_object_get(t, "date"));
    if (iati_type_of((int)type) == NULL || value == NULL || date == NULL) {
        const char *id = json_string_value(json_object_get(t, "id"));
        snprintf(message, size, "transaction %s: type, value and date are required",
                 id != NULL ? id : "(no id)");
        return false;
    }
    snprintf(code, sizeof code, "%d", (int)type);
    const json_t *c = json_object_get(t, "classifications");
    bool ok = w_start(w, "transaction") && w_attr(w, "ref", t, "ref") &&
              (!looks_boolean(json_object_get(t, "humanitarian")) ||
               w_attr(w, "humanitarian", t, "humanitarian")) &&
              w_start(w, "transaction-type") && w_attr_text(w, "code", code) && w_end(w) &&
              w_start(w, "transaction-date") && w_attr(w, "iso-date", t, "date") && w_end(w) &&
              w_start(w, "value") && w_attr(w, "currency", t, "currency") &&
              w_attr(w, "value-date", t,
                     json_object_get(t, "value_date") != NULL ? "value_date" : "date") &&
              xmlTextWriterWriteString(w->xml, (const xmlChar *)value) >= 0 && w_end(w);
    const char *description = json_string_value(json_object_get(t, "description"));
    if (ok && description != NULL && description[0] != '\0')
        ok = w_text_element(w, "description", description);
    ok = ok && w_org(w, "provider-org", json_object_get(t, "provider"), "provider-activity-id") &&
         w_org(w, "receiver-org", json_object_get(t, "receiver"), "receiver-activity-id") &&
         w_code(w, c, "disbursement-channel", "disbursement_channel") &&
         w_code(w, c, "sector", "sectors") &&
         w_code(w, c, "recipient-country", "recipient_country") &&
         w_code(w, c, "recipient-region", "recipient_region") &&
         w_code(w, c, "flow-type", "flow_type") && w_code(w, c, "finance-type", "finance_type") &&
         w_code(w, c, "aid-type", "aid_types") && w_code(w, c, "tied-status", "tied_status") &&
         w_end(w);
    if (!ok) snprintf(message, size, "the output could not be written");
    return ok;
}

bool iati_write_activity(struct iati_writer *w, const json_t *a, const json_t *transactions,
                         char *message, size_t size)
{
    assert(w != NULL && a != NULL);
    assert(message != NULL && size > 0);
    message[0] = '\0';
    const char *identifier = json_string_value(json_object_get(a, "identifier"));
    const json_t *reporting = json_object_get(a, "reporting_org");
    if (identifier == NULL || !json_is_object(reporting)) {
        snprintf(message, size, "an activity needs an identifier and a reporting-org");
        return false;
    }
    char *escaped = malloc(3 * strlen(identifier) + 1);
    bool ok = escaped != NULL && w_document(w) && w_start(w, "iati-activity") &&
              w_attr(w, "default-currency", a, "default_currency") &&
              (!looks_boolean(json_object_get(a, "humanitarian")) ||
               w_attr(w, "humanitarian", a, "humanitarian")) &&
              (!looks_int(json_object_get(a, "hierarchy")) ||
               w_attr(w, "hierarchy", a, "hierarchy")) &&
              w_start(w, "iati-identifier") &&
              xmlTextWriterWriteString(w->xml, xml_text(identifier, escaped)) >= 0 && w_end(w);
    free(escaped);
    /* reporting-org: @ref and @type are required by the schema, and one narrative. */
    const json_t *rref = json_object_get(reporting, "ref");
    const json_t *rtype = json_object_get(reporting, "type");
    ok = ok && w_start(w, "reporting-org") &&
         (json_is_string(rref) ? w_attr(w, "ref", reporting, "ref") : w_attr_text(w, "ref", "")) &&
         (json_is_string(rtype) ? w_attr(w, "type", reporting, "type")
                                : w_attr_text(w, "type", "")) &&
         w_narrative(w, json_string_value(json_object_get(reporting, "name"))) && w_end(w);
    const char *title = json_string_value(json_object_get(a, "title"));
    const char *description = json_string_value(json_object_get(a, "description"));
    ok = ok && w_text_element(w, "title", title != NULL ? title : identifier) &&
         w_text_element(w, "description", description != NULL ? description : "");
    /* participating-org: at least one; the reporting organisation when none is kept. */
    const json_t *participating = json_object_get(a, "participating");
    size_t i;
    const json_t *org;
    size_t written = 0;
    json_array_foreach(participating, i, org) {
        if (!ok) break;
        const char *role = json_string_value(json_object_get(org, "role"));
        if (role == NULL) continue;
        const char *name = json_string_value(json_object_get(org, "name"));
        ok = w_start(w, "participating-org") && w_attr(w, "ref", org, "ref") &&
             w_attr_text(w, "role", role) && w_attr(w, "type", org, "type") &&
             w_attr(w, "activity-id", org, "activity_id") &&
             (name == NULL || name[0] == '\0' || w_narrative(w, name)) && w_end(w);
        written++;
    }
    if (ok && written == 0)
        ok = w_start(w, "participating-org") && w_attr(w, "ref", reporting, "ref") &&
             w_attr_text(w, "role", "2") && w_end(w);
    /* The publisher's own identifier (the reader's internal_id). */
    if (ok && json_is_string(json_object_get(a, "internal_id")))
        ok = w_start(w, "other-identifier") && w_attr(w, "ref", a, "internal_id") &&
             w_attr_text(w, "type", "A1") && w_end(w);
    const char *status = json_string_value(json_object_get(a, "activity_status"));
    ok = ok && w_start(w, "activity-status") && w_attr_text(w, "code", status ? status : "2") &&
         w_end(w);
    /* activity-date: at least one; the first transaction's date when none is kept. */
    const json_t *dates = json_object_get(a, "activity_dates");
    written = 0;
    const json_t *d;
    json_array_foreach(dates, i, d) {
        if (!ok) break;
        if (!json_is_string(json_object_get(d, "type")) ||
            !json_is_string(json_object_get(d, "iso_date")))
            continue;
        ok = w_start(w, "activity-date") && w_attr(w, "type", d, "type") &&
             w_attr(w, "iso-date", d, "iso_date") && w_end(w);
        written++;
    }
    if (ok && written == 0) {
        const json_t *first_tx = json_array_get(transactions, 0);
        const char *first = json_string_value(json_object_get(first_tx, "date"));
        char today[TIME_TEXT_BYTES];
        if (first == NULL) {
            time_format(time_now_ns(), today);
            today[IATI_DATE_BYTES] = '\0';
            first = today;
        }
        ok = w_start(w, "activity-date") && w_attr_text(w, "type", "2") &&
             w_attr_text(w, "iso-date", first) && w_end(w);
    }
    if (!ok) {
        snprintf(message, size, "the output could not be written");
        return false;
    }
    const json_t *t;
    json_array_foreach(transactions, i, t) {
        if (!w_transaction(w, t, message, size)) return false;
    }
    if (!w_end(w)) {
        snprintf(message, size, "the output could not be written");
        return false;
    }
    return true;
}

bool iati_writer_close(struct iati_writer *w)
{
    if (w == NULL) return false;
    if (!w->failed && w->activities > 0 &&
        (xmlTextWriterEndDocument(w->xml) < 0 || xmlTextWriterFlush(w->xml) < 0 ||
         !w->write(w->ctx, "\n", 1)))
        w->failed = true;
    xmlFreeTextWriter(w->xml);
    bool ok = !w->failed;
    free(w);
    return ok;
}
