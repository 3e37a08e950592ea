/*
 * fuzz_awserr.c: AWS error bodies (JSON 1.1, REST-JSON and query/XML
 * flavours) through aws_error_from_http, which turns whatever a failing
 * service sent into a struct err. The first two bytes pick the HTTP status
 * (400..599) and whether an x-amzn-ErrorType header is given (the second
 * part of the input, NUL-separated); the first part is the body.
 * Invariants: it always returns -1, the message is NUL-terminated within
 * its buffer, and the kind is one of the error kinds.
 * Seeds: recorded error answers (throttling, access denied, STS XML
 * errors, Security Hub "not subscribed").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const services[] = {"config", "securityhub", "sts"};
    struct fuzz_parts p;
    struct err err;
    long status;
    const char *etype = NULL;

    if (size < 2 || size > FUZZ_MAX_INPUT)
        return 0;
    status = 400 + (long)(data[0] % 200);
    if (fuzz_split(data + 2, size - 2, &p) < 0)
        return 0;
    if ((data[1] & 1) && p.n > 1)
        etype = p.part[1];
    memset(&err, 0x5a, sizeof(err)); /* the function must set every byte it reports */
    if (aws_error_from_http(services[data[1] % 3], "FuzzOperation", "111111111111", "us-east-1",
            status, etype, p.part[0], p.len[0], "fuzz-request-id", &err) != -1)
        abort();
    if (memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
        abort(); /* message not terminated inside its buffer */
    if (memchr(err.code, '\0', sizeof(err.code)) == NULL)
        abort(); /* code not terminated inside its buffer */
    if (err.kind <= ERR_OK || err.kind > ERR_INTERNAL)
        abort(); /* not a failure kind */
    (void)aws_error_code_is_throttle(etype != NULL ? etype : p.part[0]);
    fuzz_parts_free(&p);
    return 0;
}
