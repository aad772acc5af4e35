/*
 * store.c — what every backend shares: the full invariant check of a stored
 * ledger, and which ids an account prefix covers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/arena.h"

struct collect {
    struct ledger_view view; /* only its account array and arena are used */
    bool out_of_memory;
};

static int collect_account(void *ctx, const struct ledger_account *account)
{
    struct collect *c = ctx;
    if (!ledger_view_add_account(&c->view, account)) {
        c->out_of_memory = true;
        return 1;
    }
    return 0;
}

enum cc_err store_check(struct store *store, struct cc_error *err)
{
    struct collect c = {.out_of_memory = false};
    ledger_view_init(&c.view);
    enum cc_err rc = store->driver->accounts_all(store, collect_account, &c, err);
    if (rc == CC_OK && c.out_of_memory) rc = cc_error_set(err, CC_ERR_NOMEM, "out of memory");
    if (rc == CC_OK) {
        char message[CC_ERROR_MESSAGE_BYTES_MAX];
        if (!ledger_check_accounts(c.view.accounts, c.view.accounts_count, message,
                                   sizeof message))
            rc = cc_error_set(err, CC_ERR_STORE, "invariant broken: %s", message);
    }
    if (rc == CC_OK) rc = store->driver->check_transfers(store, err);
    ledger_view_free(&c.view);
    return rc;
}

void store_prefix_range(const char *prefix, struct store_prefix_range *range)
{
    size_t n = strlen(prefix);
    memset(range, 0, sizeof *range);
    if (n > LEDGER_ID_BYTES_MAX) return; /* longer than any id: covers none (["", "")) */
    if (n == 0) {
        range->hi[0] = 0x7f;
        return;
    }
    if (prefix[n - 1] == '.') {
        memcpy(range->lo, prefix, n + 1);
    } else {
        memcpy(range->exact, prefix, n + 1);
        snprintf(range->lo, sizeof range->lo, "%s.", prefix);
    }
    size_t lo_n = strlen(range->lo);
    memcpy(range->hi, range->lo, lo_n + 1);
    range->hi[lo_n - 1] = (char)(range->hi[lo_n - 1] + 1); /* '.' + 1 is '/' */
}
