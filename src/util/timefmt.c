/* timefmt.c — parsing and printing instants (see timefmt.h). */
#include "util/timefmt.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

bool time_parse(const char *text, int64_t *ns, bool *date_only)
{
    int y, mo, d, h = 0, mi = 0, s = 0;
    size_t len = strlen(text);
    if (len < 10 || !digits(text, 4, &y) || text[4] != '-' || !digits(text + 5, 2, &mo) ||
        text[7] != '-' || !digits(text + 8, 2, &d))
        return false;
    if (y < TIME_YEAR_MIN || y > TIME_YEAR_MAX || mo < 1 || mo > 12 || d < 1 ||
        d > month_days(y, mo))
        return false;
    int64_t frac_ns = 0, offset_s = 0;
    *date_only = len == 10;
    if (!*date_only) {
        const char *p = text + 10;
        if ((*p != 'T' && *p != 't' && *p != ' ') || strlen(p) < 9) return false;
        if (!digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi) || p[6] != ':' ||
            !digits(p + 7, 2, &s))
            return false;
        if (h > 23 || mi > 59 || s > 59) return false;
        p += 9;
        if (*p == '.') {
            p++;
            int n = 0;
            while (*p >= '0' && *p <= '9') {
                if (++n > 9) return false;
                frac_ns = frac_ns * 10 + (*p - '0');
                p++;
            }
            if (n == 0) return false;
            for (; n < 9; n++) frac_ns *= 10;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
                om > 59)
                return false;
            offset_s = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
            p += 6;
        } else {
            return false;
        }
        if (*p != '\0') return false;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_s;
    *ns = secs * TIME_NS_PER_SECOND + frac_ns;
    return true;
}

bool time_parse_through(const char *text, int64_t *ns)
{
    bool date_only;
    if (!time_parse(text, ns, &date_only)) return false;
    if (date_only) *ns += TIME_NS_PER_DAY - 1;
    return true;
}

void time_format(int64_t ns, char out[TIME_TEXT_BYTES])
{
    int64_t secs = ns / TIME_NS_PER_SECOND, frac = ns % TIME_NS_PER_SECOND;
    if (frac < 0) {
        frac += TIME_NS_PER_SECOND;
        secs -= 1;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    char text[64]; /* wide enough for any int the compiler cannot bound */
    snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", y % 10000, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (long long)frac);
    memcpy(out, text, TIME_TEXT_BYTES - 1);
    out[TIME_TEXT_BYTES - 1] = '\0';
}

void time_format_date(int64_t ns, char out[TIME_TEXT_BYTES])
{
    time_format(ns, out);
    if (ns % TIME_NS_PER_DAY == 0) out[10] = '\0';
}

int64_t time_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * TIME_NS_PER_SECOND + ts.tv_nsec;
}
