/*
 * fuzz_sts.c: the STS XML answers (sts_parse_credentials for AssumeRole
 * and AssumeRoleWithWebIdentity, sts_parse_caller_identity) and the small
 * XML reader under them (xml_find_text with a few paths). The first byte
 * picks the operation. Seeds: recorded STS answers and the xml unit data.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "providers/aws/sts.h"
#include "providers/aws/xml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {
        "ErrorResponse/Error/Code", "Response/Errors/Error/Message",
        "GetCallerIdentityResponse/GetCallerIdentityResult/Arn",
        "AssumeRoleResponse/ResponseMetadata/RequestId", "//Code"};
    struct sts_identity id;
    struct creds *c = NULL;
    struct err err = {0};
    char *text, *found = NULL;

    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    text = fuzz_strndup(data + 1, size - 1);
    if (text == NULL)
        return 0;
    memset(&id, 0, sizeof(id));
    switch (data[0] % 4) {
    case 0:
        if (sts_parse_credentials("AssumeRole", text, size - 1, "assume-role fuzz", &c, &err) == 0)
            creds_free(c);
        break;
    case 1:
        if (sts_parse_credentials("AssumeRoleWithWebIdentity", text, size - 1, "web-identity fuzz",
                &c, &err) == 0)
            creds_free(c);
        break;
    case 2:
        if (sts_parse_caller_identity(text, size - 1, &id, &err) == 0)
            sts_identity_clear(&id);
        break;
    default:
        if (xml_find_text(text, size - 1, paths[(size - 1) % 5], &found, &err) == 1)
            free(found);
        break;
    }
    free(text);
    return 0;
}
