/*
 * test_pager.c: the pagination guard: a normal read, a cycle, a run of
 * empty pages, the page cap, malformed tokens, and thousands of distinct
 * tokens (the hash set grows and still finds a repeat of the first).
 */
#include <stdio.h>
#include <string.h>

#include "providers/aws/pager.h"
#include "testutil.h"

static int
next(struct pager *p, size_t items, const char *tok, struct err *err)
{
    return pager_next(p, items, tok, tok ? strlen(tok) : 0, err);
}

int
main(void)
{
    struct pager p;
    struct err err = {0};
    char tok[96];

    /* three pages, then the end */
    pager_init(&p, "config SelectResourceConfig", 100);
    CHECK_INT(next(&p, 100, "a", &err), 1);
    CHECK_STR(pager_token(&p), "a");
    CHECK_INT(next(&p, 100, "b", &err), 1);
    CHECK_INT(next(&p, 3, NULL, &err), 0);
    CHECK_INT(p.page, 3);
    pager_clear(&p);

    /* a cycle a -> b -> a */
    pager_init(&p, "config SelectResourceConfig", 100);
    CHECK_INT(next(&p, 1, "a", &err), 1);
    CHECK_INT(next(&p, 1, "b", &err), 1);
    CHECK_INT(next(&p, 1, "a", &err), -1);
    CHECK_INT(err.kind, ERR_REMOTE);
    CHECK_CONTAINS(err.msg, "config SelectResourceConfig: page 3 repeats an earlier NextToken");
    pager_clear(&p);

    /* fresh tokens forever on empty pages */
    pager_init(&p, "securityhub GetFindings", 100000);
    int r = 1;
    for (int i = 0; r == 1 && i < 1000; i++) {
        snprintf(tok, sizeof(tok), "t%d", i);
        r = next(&p, 0, tok, &err);
    }
    CHECK_INT(r, -1);
    CHECK_INT(p.page, PAGER_MAX_EMPTY);
    CHECK_CONTAINS(err.msg, "pages in a row without items");
    pager_clear(&p);

    /* an empty page now and then is fine */
    pager_init(&p, "x", 100000);
    r = 1;
    for (int i = 0; r == 1 && i < 500; i++) {
        snprintf(tok, sizeof(tok), "u%d", i);
        r = next(&p, i % 10 == 0 ? 0 : 100, tok, &err);
    }
    CHECK_INT(r, 1);
    pager_clear(&p);

    /* the page cap */
    pager_init(&p, "x", 2);
    CHECK_INT(next(&p, 1, "a", &err), 1);
    CHECK_INT(next(&p, 1, "b", &err), -1);
    CHECK_CONTAINS(err.msg, "more than 2 pages");
    pager_clear(&p);

    /* malformed tokens: embedded NUL, oversized */
    pager_init(&p, "x", 10);
    CHECK_INT(pager_next(&p, 1, "a\0b", 3, &err), -1);
    CHECK_CONTAINS(err.msg, "malformed NextToken");
    pager_clear(&p);
    {
        static char big[PAGER_MAX_TOKEN + 2];
        memset(big, 'x', sizeof(big) - 1);
        pager_init(&p, "x", 10);
        CHECK_INT(next(&p, 1, big, &err), -1);
        pager_clear(&p);
    }

    /* many distinct tokens, then a repeat of the first one */
    pager_init(&p, "x", 1000000);
    r = 1;
    for (int i = 0; r == 1 && i < 20000; i++) {
        snprintf(tok, sizeof(tok), "token-%d", i);
        r = next(&p, 1, tok, &err);
    }
    CHECK_INT(r, 1);
    CHECK_INT(next(&p, 1, "token-0", &err), -1);
    CHECK_CONTAINS(err.msg, "repeats an earlier NextToken");
    CHECK_INT(next(&p, 1, "token-20000", &err), 1);
    pager_clear(&p);
    pager_clear(&p); /* idempotent */

    /* items: new ones pass, a repeat within the read stops it */
    pager_init(&p, "config SelectResourceConfig", 100);
    r = 0;
    for (int i = 0; r == 0 && i < 5000; i++) {
        snprintf(tok, sizeof(tok), "111111111111/us-east-1/AWS::EC2::VPC/vpc-%d", i);
        r = pager_item(&p, tok, strlen(tok), &err);
    }
    CHECK_INT(r, 0);
    CHECK_INT(pager_item(&p, "111111111111/us-east-1/AWS::EC2::VPC/vpc-7",
                  strlen("111111111111/us-east-1/AWS::EC2::VPC/vpc-7"), &err),
        -1);
    CHECK_CONTAINS(err.msg, "returns '111111111111/us-east-1/AWS::EC2::VPC/vpc-7' again");
    pager_clear(&p);
    TEST_END();
}
