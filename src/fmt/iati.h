/*
 * iati.h — IATI 2.03 activity files, read into concord's `iati_activity` and
 * `iati_transaction` operations, and written back from them.
 *
 * Reading streams a file with libxml2's xmlTextReader, validating every node
 * against the official XSD as it goes (iati-activities-schema.xsd, given by
 * path: concord ships no copy of it). Memory is bounded by one activity: an
 * activity is gathered while its element is open, handed to the caller when
 * it closes, and forgotten; no tree of the document is ever built, so a file
 * of hundreds of megabytes costs what its largest activity costs. The first
 * problem ends the read with "file:line: element E: what" — not well-formed
 * XML, a node the schema refuses, a DTD (refused outright: no IATI file needs
 * one, and it is where entity expansion attacks live), a currency that is not
 * ISO 4217, a value or date concord cannot record.
 *
 * What is kept of an activity and its transactions is JSON in one shape
 * throughout: the operations the reader makes, the meta of the transfers the
 * operations record, and what the writer takes to write IATI again, so that
 * an export imports back to the same figures. docs/INTEROP.md gives the
 * mapping field by field.
 *
 * Amounts are not converted here: a value is kept as canonical decimal text
 * ("-1234.5"), and app/interop_iati.c turns it into minor units of the
 * currency's unit, whose scale only the ledger knows. No database here.
 */
#ifndef CONCORD_FMT_IATI_H
#define CONCORD_FMT_IATI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* ---- limits, checked where the XML enters */

#define IATI_FILE_BYTES_MAX ((int64_t)4 << 30) /* one file: streamed, never held whole */
#define IATI_IDENTIFIER_BYTES_MAX 256 /* iati-identifier and the activity ids of orgs */
#define IATI_REF_BYTES_MAX 128        /* an organisation's or a transaction's @ref */
/* The publisher's own identifier (other-identifier A1): concord's "<account>@<log name>" fits. */
#define IATI_INTERNAL_ID_BYTES_MAX 320
#define IATI_CODE_BYTES_MAX 64        /* codes, vocabularies, dates, currencies */
#define IATI_VALUE_BYTES_MAX 64       /* the text of a value element */
#define IATI_NAME_BYTES_MAX 256       /* a narrative kept as a name or title (cut) */
#define IATI_TEXT_BYTES_MAX 1024      /* a narrative kept as a description (cut) */
#define IATI_PARTICIPANTS_KEPT 20     /* participating-orgs kept per activity (more: counted) */
#define IATI_DATES_KEPT 8             /* activity-dates kept per activity */
#define IATI_CODES_KEPT 8             /* sectors and aid-types kept per transaction */
#define IATI_DEPTH_TRACKED 64         /* element nesting named in messages */
#define IATI_OP_BYTES_MAX 15360       /* an operation's JSON: under the ledger's 16 KiB meta */
#define IATI_MESSAGE_BYTES 512

/* ---- the ledger's side of the mapping */

#define IATI_UNIT_RECORD "IATI_RECORD" /* activities and second reports, counted in ones */
#define IATI_UNIT_RECORD_NAME "IATI record (an activity or a second report of a flow)"
#define IATI_ACCOUNT_PUBLISHED "iati.records.published"
#define IATI_ACCOUNT_ACTIVITIES "iati.records.activities"
#define IATI_ACCOUNT_SECOND_REPORTS "iati.records.second_reports"
#define IATI_KIND_ACTIVITY "iati.activity"
#define IATI_KIND_SECOND_REPORT "iati.second_report"
#define IATI_UNSPECIFIED "unspecified" /* the accounts of an organisation given without @ref */
#define IATI_PARTY_ID_BYTES_MAX 48     /* [a-z0-9][a-z0-9_-]{0,47} */
#define IATI_ID_BYTES_MAX 96           /* an operation's id: room for the ledger's suffixes */

/* One of the 13 transaction types of IATI 2.03 (codelist TransactionType). */
struct iati_type {
    int code;          /* 1 … 13 */
    const char *name;  /* "Incoming Funds" */
    const char *kind;  /* the transfer's kind: "iati.incoming_funds" */
    const char *stage; /* the accounts it moves: pledge, commitment, guarantee or funds */
    bool pending;      /* a pledge binds no one: a pending transfer, never posted */
    bool incoming;     /* reported by the receiver: a missing receiver-org is the reporter */
    char side;         /* 'p': the provider's report of a flow, 'r': the recipient's, 0 */
};

/* The type of code, or NULL. */
const struct iati_type *iati_type_of(int code);
/* The type whose kind is kind, or NULL. */
const struct iati_type *iati_type_of_kind(const char *kind);

/* ISO 4217's minor units of a currency code, -1 when the code is not ISO 4217's. */
int iati_currency_minor_units(const char *code);

/*
 * xsd:decimal text ("  +0012.500 ") in canonical form ("12.5", "-3", "0"):
 * no sign but '-', no leading zeros, no trailing fractional zeros. false when
 * the text is not a decimal or is longer than IATI_VALUE_BYTES_MAX.
 */
bool iati_decimal_canonical(const char *text, char out[IATI_VALUE_BYTES_MAX + 2]);

/*
 * An IATI organisation ref as a concord party id: lower case, every byte
 * outside [a-z0-9_-] as '-', "x" in front when it would not start with a
 * letter or digit, and a ref longer than 48 bytes cut to 39 and marked with
 * 8 hex digits of its BLAKE2b hash so that long refs stay apart.
 */
void iati_party_id(const char *ref, char out[IATI_PARTY_ID_BYTES_MAX + 1]);
/*
 * The party of an organisation ref: "iati-" and its id as above, so that an
 * IATI ref (AE, US) never names one of the mission's own parties and hands
 * it the imported accounts.
 */
void iati_party_of(const char *ref, char out[IATI_PARTY_ID_BYTES_MAX + 1]);

/*
 * The account of an organisation (party id, or NULL for one without @ref)
 * at a stage, on the side it takes (given: debited; received: credited), in
 * a unit: "iati.funds.gb-gov-1.given.eur". false when it does not fit.
 */
bool iati_account_id(char *out, size_t size, const char *stage, const char *party, bool given,
                     const char *unit);

/* The transfer that records an activity: "iati/a/<key>" (see iati.c for keys). */
bool iati_activity_record_id(char *out, size_t size, const char *identifier);
/* A transaction's transfer: "iati/t/<key>#r<ref>" when ref is given, else "…#<position>". */
bool iati_transaction_id(char *out, size_t size, const char *identifier, const char *ref,
                         int64_t position);
/* What every transaction id of an activity starts with: "iati/t/<key>#". */
bool iati_transaction_prefix(char *out, size_t size, const char *identifier);
/* Whether a transaction @ref can name its transfer (short, plain ASCII, not ending in a
 * suffix the ledger reserves for its own records). */
bool iati_ref_keyable(const char *ref);
/* A report of a flow both sides report: "iati/pair/<key>/p" (provider) or "…/r". */
bool iati_pair_id(char *out, size_t size, const char *key, char side);
/* The common key of the two reports of one flow: 32 hex digits (see iati.c). */
void iati_pair_key(const char *provider_activity, const char *receiver_activity,
                   const char *stage, const char *currency, const char *value, int64_t ordinal,
                   char out[33]);

/* ---- reading */

struct iati_schema;

/* Loads the XSD at path; NULL with message when it cannot be read or parsed. */
struct iati_schema *iati_schema_load(const char *path, char *message, size_t size);
void iati_schema_free(struct iati_schema *schema);

/*
 * One file to read: a regular file or bytes in memory (data, size). A file is
 * read from its start by offset (pread) and its position left alone, so that
 * two readers in two threads may read it at once (the import validates in
 * one while it records in another); a pipe must first be copied to one.
 */
struct iati_source {
    const char *name; /* for messages */
    FILE *file;       /* read from here when not NULL */
    const char *data;
    size_t size;
};

/* A transaction read: its operation (all but "amount"), and what the amount needs. */
struct iati_transaction_read {
    json_t *op;           /* {"op":"iati_transaction",…}; owned by the reader */
    const char *value;    /* canonical decimal text, in op */
    const char *currency; /* ISO 4217 code, in op */
    int line;             /* of its value element, for messages */
};

/* An activity read: its operation and its transactions that concord records. */
struct iati_activity_read {
    json_t *op; /* {"op":"iati_activity",…} */
    int line;
    struct iati_transaction_read *transactions;
    size_t count;
};

/*
 * What the reader hands over. activity: false stops the read (message
 * filled). skipped: something the schema allows but concord does not record
 * (a transaction-type outside 1 … 13, a value of 0, an activity without an
 * identifier), with its place; the read goes on.
 */
struct iati_sink {
    bool (*activity)(void *ctx, const struct iati_activity_read *activity, char *message,
                     size_t size);
    void (*skipped)(void *ctx, int line, const char *element, const char *reason);
    void *ctx;
};

/*
 * Reads one file, validating it against schema (NULL: no validation, for
 * tests and the fuzzer, and for the import, which validates in a thread of
 * its own: iati_validate). false with message ("file.xml:12: element value:
 * …") at the first problem, and its line in *line (0 when it has none; the
 * activity's when the sink refused it; line may be NULL).
 */
bool iati_read(const struct iati_source *source, const struct iati_schema *schema,
               const struct iati_sink *sink, char *message, size_t size, int *line);

/*
 * Validates one file against schema and does nothing else: the checks of
 * iati_read() that are the XML's and the schema's (well-formed, valid, no
 * DTD, the root element), none of concord's own, and nothing handed over.
 * Safe in a thread of its own, beside an iati_read() of the same file.
 */
bool iati_validate(const struct iati_source *source, const struct iati_schema *schema,
                   char *message, size_t size, int *line);

/* ---- writing */

struct iati_writer;

/* Where the XML goes: false when it could not be written. */
typedef bool (*iati_write_fn)(void *ctx, const char *bytes, size_t length);

/* A writer of <iati-activities version="2.03">, begun at the first activity; NULL: no memory. */
struct iati_writer *iati_writer_open(iati_write_fn write, void *ctx);
/*
 * One activity: fields of an `iati_activity` operation, and its transactions
 * as fields of `iati_transaction` operations (with "value" and "currency";
 * "description" as text), in the order to write them. false when a field
 * cannot be written (message says which) or the output failed.
 */
bool iati_write_activity(struct iati_writer *writer, const json_t *activity,
                         const json_t *transactions, char *message, size_t size);
/* Activities written so far (none: nothing was written, not even the document's start). */
size_t iati_writer_activities(const struct iati_writer *writer);
/* Ends the document and frees the writer; false when the output failed. */
bool iati_writer_close(struct iati_writer *writer);

#endif
