/*
 * testutil.h: the handful of assertion macros every unit test uses (s2n's
 * s2n_test.h idea). A failed check prints file:line and the expression, counts
 * the failure and carries on, so one run shows every broken case; TEST_END
 * prints "N passed, N failed" and returns non-zero when anything failed.
 */
#pragma once

#include <stdio.h>
#include <string.h>

static int test_passed_ = 0;
static int test_failed_ = 0;

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (expr) {                                                                                \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);               \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(expr, ...)                                                                       \
    do {                                                                                           \
        if (expr) {                                                                                \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #expr);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ != NULL && b_ != NULL && strcmp(a_, b_) == 0) {                                     \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: %s != %s\n  got:  [%s]\n  want: [%s]\n", __FILE__, __LINE__,   \
                #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                   \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ == b_) {                                                                            \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: %s != %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, a_,   \
                b_);                                                                               \
        }                                                                                          \
    } while (0)

/* the message of an err must mention a substring */
#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (h_ != NULL && strstr(h_, n_) != NULL) {                                                \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: [%s] does not contain [%s]\n", __FILE__, __LINE__,             \
                h_ ? h_ : "(null)", n_);                                                           \
        }                                                                                          \
    } while (0)

#define TEST_END()                                                                                 \
    do {                                                                                           \
        printf("%d passed, %d failed\n", test_passed_, test_failed_);                              \
        return test_failed_ == 0 && test_passed_ > 0 ? 0 : 1;                                      \
    } while (0)
