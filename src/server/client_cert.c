// SPDX-License-Identifier: MIT
// Client certificates of TLS connections: the record behind
// gh_request_client_cert() and the mapping result attached to it.
#include <stdlib.h>

#include <gatehouse/token.h>

#include "server/server.h"

struct conn_client_cert {
    struct gh_client_cert pub;
};

void
conn_client_cert_set_mapping(struct conn *c, gh_token *token, bool denied)
{
    struct conn_client_cert *cc = c->client_cert;

    if (cc == NULL)
        return;
    gh_token *old = cc->pub.token;
    cc->pub.token = token != NULL ? gh_token_dup(token) : NULL;
    cc->pub.denied_by_mapper = denied;
    gh_token_close(old);
}

void
conn_client_cert_free(struct conn_client_cert *cc)
{
    if (cc == NULL)
        return;
    gh_token_close(cc->pub.token);
    free(cc);
}
