// SPDX-License-Identifier: MIT
// What the Schannel and CredSSP samples share (schannel_client.c,
// schannel_server.c, credssp_client.c, credssp_server.c): the handshake loops
// and the record functions written the way Microsoft's documentation describes
// them for Schannel (InitializeSecurityContext / AcceptSecurityContext with a
// SECBUFFER_TOKEN + SECBUFFER_EMPTY input, SECBUFFER_EXTRA and
// SEC_E_INCOMPLETE_MESSAGE / SECBUFFER_MISSING, EncryptMessage with
// STREAM_HEADER / DATA / STREAM_TRAILER, DecryptMessage with one DATA buffer
// and three EMPTY ones, SEC_I_RENEGOTIATE, SEC_I_CONTEXT_EXPIRED). Written
// here from that description, not copied. Tokens go on the socket raw: they
// are TLS records, for CredSSP too (as RDP carries them).
#ifndef TLS_SAMPLE_H
#define TLS_SAMPLE_H

// clang-format off
/* Windows' order: <windows.h> (in sspi_sample.h, on Windows) before the rest. */
#include "sspi_sample.h" /* sockets, <security.h>, PrintFailure, ToTString */
#include <wincrypt.h>
#include <schannel.h>
#include <credssp.h>
#include <sspi.h>
// clang-format on

#define IO_BUFFER_SIZE      0x10000 /* a whole TLS record (16 KiB + overhead) fits */
#define MAX_HANDSHAKE_CALLS 64      /* no TLS handshake needs more */

/* A whole file in memory (free() it), or NULL. */
static inline BYTE *
ReadWholeFile(const char *pszPath, DWORD *pcb)
{
    FILE *f = fopen(pszPath, "rb");
    BYTE *pb = NULL;
    long cb;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (cb = ftell(f)) > 0 && cb < 0x1000000 &&
        fseek(f, 0, SEEK_SET) == 0) {
        pb = (BYTE *)malloc((size_t)cb);
        if (pb != NULL && fread(pb, 1, (size_t)cb, f) != (size_t)cb) {
            free(pb);
            pb = NULL;
        }
        *pcb = (DWORD)cb;
    }
    fclose(f);
    return pb;
}

/* The certificate with a private key from a PKCS #12 (.pfx) file: the
 * documented way to name one without the machine's certificate stores.
 * *phStore must be closed (CertCloseStore) after the context is released. */
static inline PCCERT_CONTEXT
CertificateFromPfx(const char *pszPath, const char *pszPassword, HCERTSTORE *phStore)
{
    CRYPT_DATA_BLOB Pfx;
    WCHAR wszPassword[128];
    PCCERT_CONTEXT pCert = NULL;
    DWORD cb = 0;
    size_t i;

    *phStore = NULL;
    for (i = 0; pszPassword[i] != '\0' && i + 1 < sizeof(wszPassword) / sizeof(WCHAR); i++)
        wszPassword[i] = (WCHAR)(UCHAR)pszPassword[i];
    wszPassword[i] = 0;
    Pfx.pbData = ReadWholeFile(pszPath, &cb);
    Pfx.cbData = cb;
    if (Pfx.pbData == NULL) {
        fprintf(stderr, "cannot read %s\n", pszPath);
        return NULL;
    }
    *phStore = PFXImportCertStore(&Pfx, wszPassword, CRYPT_EXPORTABLE);
    memset(wszPassword, 0, sizeof(wszPassword));
    free(Pfx.pbData);
    if (*phStore == NULL) {
        fprintf(stderr, "PFXImportCertStore failed: %s\n", pszPath);
        return NULL;
    }
    pCert = CertFindCertificateInStore(*phStore, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0,
                                       CERT_FIND_HAS_PRIVATE_KEY, NULL, NULL);
    if (pCert == NULL)
        fprintf(stderr, "no certificate with a private key in %s\n", pszPath);
    return pCert;
}

/* A store of trusted roots holding one DER certificate (hRootStore). */
static inline HCERTSTORE
RootStoreFromFile(const char *pszPath)
{
    HCERTSTORE hStore;
    DWORD cb = 0;
    BYTE *pb = ReadWholeFile(pszPath, &cb);

    if (pb == NULL) {
        fprintf(stderr, "cannot read %s\n", pszPath);
        return NULL;
    }
    hStore = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
    if (hStore != NULL &&
        !CertAddEncodedCertificateToStore(hStore, X509_ASN_ENCODING, pb, cb,
                                          CERT_STORE_ADD_REPLACE_EXISTING, NULL)) {
        fprintf(stderr, "CertAddEncodedCertificateToStore failed: %s\n", pszPath);
        CertCloseStore(hStore, 0);
        hStore = NULL;
    }
    free(pb);
    return hStore;
}

static inline BOOL
SendAll(SOCKET s, const void *pv, DWORD cb)
{
    const char *p = (const char *)pv;
    while (cb > 0) {
        int n = (int)send(s, p, (int)cb, 0);
        if (n <= 0)
            return FALSE;
        p += n;
        cb -= (DWORD)n;
    }
    return TRUE;
}

/* Appends what the socket has to pbIo (at most cbMax in all). 0 when closed. */
static inline int
ReadMore(SOCKET s, BYTE *pbIo, DWORD *pcbIo, DWORD cbMax)
{
    int n;
    if (*pcbIo >= cbMax)
        return -1;
    n = (int)recv(s, (char *)pbIo + *pcbIo, (int)(cbMax - *pcbIo), 0);
    if (n > 0)
        *pcbIo += (DWORD)n;
    return n;
}

/* Sends the output token (if any) and frees it (ISC/ASC_REQ_ALLOCATE_MEMORY). */
static inline BOOL
SendToken(SOCKET s, SecBuffer *pOut)
{
    BOOL ok = TRUE;
    if (pOut->pvBuffer != NULL && pOut->cbBuffer != 0)
        ok = SendAll(s, pOut->pvBuffer, pOut->cbBuffer);
    if (pOut->pvBuffer != NULL)
        FreeContextBuffer(pOut->pvBuffer);
    pOut->pvBuffer = NULL;
    pOut->cbBuffer = 0;
    return ok;
}

/* The bytes SECBUFFER_EXTRA says were not consumed move to the front of
 * pbIo; without one, everything was consumed. */
static inline void
KeepExtra(SecBuffer InBuffers[2], BYTE *pbIo, DWORD *pcbIo)
{
    if (InBuffers[1].BufferType == SECBUFFER_EXTRA && InBuffers[1].cbBuffer <= *pcbIo) {
        memmove(pbIo, pbIo + (*pcbIo - InBuffers[1].cbBuffer), InBuffers[1].cbBuffer);
        *pcbIo = InBuffers[1].cbBuffer;
    } else {
        *pcbIo = 0;
    }
}

/* A handshake call's input: the bytes received as SECBUFFER_TOKEN, and an
 * empty buffer in which the package reports SECBUFFER_EXTRA or
 * SECBUFFER_MISSING. */
static inline void
HandshakeInput(PSecBufferDesc pDesc, SecBuffer InBuffers[2], BYTE *pbIo, DWORD cbIo)
{
    InBuffers[0].BufferType = SECBUFFER_TOKEN;
    InBuffers[0].pvBuffer = pbIo;
    InBuffers[0].cbBuffer = cbIo;
    InBuffers[1].BufferType = SECBUFFER_EMPTY;
    InBuffers[1].pvBuffer = NULL;
    InBuffers[1].cbBuffer = 0;
    pDesc->ulVersion = SECBUFFER_VERSION;
    pDesc->cBuffers = 2;
    pDesc->pBuffers = InBuffers;
}

/* The client's handshake loop. With fInitial, the first call (no context, no
 * input) is made here; without, the context exists and pbIo holds what was
 * received (after SEC_I_RENEGOTIATE). phNewCred is the credential to switch to
 * after SEC_I_INCOMPLETE_CREDENTIALS (NULL: go on without a certificate).
 * On success, pbIo keeps the bytes received beyond the handshake. */
static inline SECURITY_STATUS
ClientHandshake(SOCKET s, PCredHandle phCred, PCredHandle phNewCred, LPTSTR pszTarget,
                ULONG fContextReq, PCtxtHandle phCtxt, BOOL fInitial, BYTE *pbIo, DWORD *pcbIo,
                ULONG *pfContextAttr)
{
    SecBufferDesc InDesc, OutDesc;
    SecBuffer InBuffers[2], OutBuffers[1];
    SECURITY_STATUS ss = SEC_I_CONTINUE_NEEDED;
    TimeStamp tsExpiry;
    BOOL fRead = fInitial ? FALSE : (*pcbIo == 0);
    int calls;

    OutDesc.ulVersion = SECBUFFER_VERSION;
    OutDesc.cBuffers = 1;
    OutDesc.pBuffers = OutBuffers;
    if (fInitial) {
        OutBuffers[0].BufferType = SECBUFFER_TOKEN;
        OutBuffers[0].pvBuffer = NULL;
        OutBuffers[0].cbBuffer = 0;
        ss = InitializeSecurityContext(phCred, NULL, pszTarget, fContextReq, 0, 0, NULL, 0, phCtxt,
                                       &OutDesc, pfContextAttr, &tsExpiry);
        if (ss != SEC_I_CONTINUE_NEEDED) {
            if (OutBuffers[0].pvBuffer != NULL)
                FreeContextBuffer(OutBuffers[0].pvBuffer);
            return SEC_SUCCESS(ss) ? SEC_E_INTERNAL_ERROR : ss;
        }
        if (!SendToken(s, &OutBuffers[0]))
            return SEC_E_INTERNAL_ERROR;
        fRead = TRUE;
        *pcbIo = 0;
    }

    for (calls = 0; calls < MAX_HANDSHAKE_CALLS; calls++) {
        if (fRead) {
            int n = ReadMore(s, pbIo, pcbIo, IO_BUFFER_SIZE);
            if (n <= 0) {
                fprintf(stderr, "the server closed the connection during the handshake\n");
                return SEC_E_INTERNAL_ERROR;
            }
        }
        fRead = TRUE;
        HandshakeInput(&InDesc, InBuffers, pbIo, *pcbIo);
        OutBuffers[0].BufferType = SECBUFFER_TOKEN;
        OutBuffers[0].pvBuffer = NULL;
        OutBuffers[0].cbBuffer = 0;

        ss = InitializeSecurityContext(phCred, phCtxt, pszTarget, fContextReq, 0, 0, &InDesc, 0,
                                       NULL, &OutDesc, pfContextAttr, &tsExpiry);
        if (ss == SEC_E_INCOMPLETE_MESSAGE) {
            if (InBuffers[1].BufferType == SECBUFFER_MISSING)
                printf("handshake: %lu more bytes needed\n", (ULONG)InBuffers[1].cbBuffer);
            continue; /* read more, keep what we have */
        }
        /* A token to send, also with a failure when ISC_REQ_EXTENDED_ERROR
         * made the package write an alert. */
        if ((ss == SEC_E_OK || ss == SEC_I_CONTINUE_NEEDED ||
             (FAILED(ss) && (*pfContextAttr & ISC_RET_EXTENDED_ERROR))) &&
            !SendToken(s, &OutBuffers[0]))
            return SEC_E_INTERNAL_ERROR;
        if (OutBuffers[0].pvBuffer != NULL)
            FreeContextBuffer(OutBuffers[0].pvBuffer);
        if (ss == SEC_I_INCOMPLETE_CREDENTIALS) {
            /* The server asked for a certificate: the same input again, with a
             * credential that has one, or with the same one to go without. */
            SecPkgContext_IssuerListInfoEx Issuers;
            if (QueryContextAttributes(phCtxt, SECPKG_ATTR_ISSUER_LIST_EX, &Issuers) == SEC_E_OK) {
                printf("the server asks for a client certificate (%lu acceptable CAs)\n",
                       (ULONG)Issuers.cIssuers);
                FreeContextBuffer(Issuers.aIssuers);
            }
            if (phNewCred != NULL)
                phCred = phNewCred;
            fRead = FALSE;
            continue;
        }
        if (FAILED(ss))
            return ss;
        KeepExtra(InBuffers, pbIo, pcbIo);
        if (ss == SEC_E_OK)
            return SEC_E_OK;
        if (*pcbIo != 0)
            fRead = FALSE; /* a whole record is waiting: no read first */
    }
    return SEC_E_INTERNAL_ERROR;
}

/* The server's handshake loop: AcceptSecurityContext on what the client sent,
 * the first call with no context. On success pbIo keeps the bytes received
 * beyond the handshake. */
static inline SECURITY_STATUS
ServerHandshake(SOCKET s, PCredHandle phCred, ULONG fContextReq, PCtxtHandle phCtxt,
                PSecBuffer pExtraInput, BYTE *pbIo, DWORD *pcbIo, ULONG *pfContextAttr)
{
    SecBufferDesc InDesc, OutDesc;
    SecBuffer InBuffers[3], OutBuffers[1];
    SECURITY_STATUS ss;
    TimeStamp tsExpiry;
    BOOL fInitial = TRUE, fRead = (*pcbIo == 0);
    int calls;

    for (calls = 0; calls < MAX_HANDSHAKE_CALLS; calls++) {
        if (fRead && ReadMore(s, pbIo, pcbIo, IO_BUFFER_SIZE) <= 0) {
            fprintf(stderr, "the client closed the connection during the handshake\n");
            return SEC_E_INTERNAL_ERROR;
        }
        fRead = TRUE;
        HandshakeInput(&InDesc, InBuffers, pbIo, *pcbIo);
        if (fInitial && pExtraInput != NULL) /* e.g. SECBUFFER_APPLICATION_PROTOCOLS */
            InBuffers[InDesc.cBuffers++] = *pExtraInput;
        OutBuffers[0].BufferType = SECBUFFER_TOKEN;
        OutBuffers[0].pvBuffer = NULL;
        OutBuffers[0].cbBuffer = 0;
        OutDesc.ulVersion = SECBUFFER_VERSION;
        OutDesc.cBuffers = 1;
        OutDesc.pBuffers = OutBuffers;

        ss = AcceptSecurityContext(phCred, fInitial ? NULL : phCtxt, &InDesc, fContextReq, 0,
                                   phCtxt, &OutDesc, pfContextAttr, &tsExpiry);
        if (ss == SEC_E_INCOMPLETE_MESSAGE) {
            if (InBuffers[1].BufferType == SECBUFFER_MISSING)
                printf("handshake: %lu more bytes needed\n", (ULONG)InBuffers[1].cbBuffer);
            continue;
        }
        if (SEC_SUCCESS(ss))
            fInitial = FALSE;
        if ((ss == SEC_E_OK || ss == SEC_I_CONTINUE_NEEDED ||
             (FAILED(ss) && (*pfContextAttr & ASC_RET_EXTENDED_ERROR))) &&
            !SendToken(s, &OutBuffers[0]))
            return SEC_E_INTERNAL_ERROR;
        if (OutBuffers[0].pvBuffer != NULL)
            FreeContextBuffer(OutBuffers[0].pvBuffer);
        if (FAILED(ss))
            return ss;
        KeepExtra(InBuffers, pbIo, pcbIo);
        if (ss == SEC_E_OK)
            return SEC_E_OK;
        if (*pcbIo != 0)
            fRead = FALSE;
    }
    return SEC_E_INTERNAL_ERROR;
}

/* One record: header, data and trailer in one buffer, then on the socket. */
static inline SECURITY_STATUS
EncryptSend(SOCKET s, PCtxtHandle phCtxt, const SecPkgContext_StreamSizes *pSizes,
            const void *pvData, DWORD cbData)
{
    SecBufferDesc Message;
    SecBuffer Buffers[4];
    SECURITY_STATUS ss;
    BYTE *pbMessage;

    if (cbData > pSizes->cbMaximumMessage)
        return SEC_E_BUFFER_TOO_SMALL;
    pbMessage = (BYTE *)malloc(pSizes->cbHeader + cbData + pSizes->cbTrailer);
    if (pbMessage == NULL)
        return SEC_E_INSUFFICIENT_MEMORY;
    memcpy(pbMessage + pSizes->cbHeader, pvData, cbData);
    Buffers[0].BufferType = SECBUFFER_STREAM_HEADER;
    Buffers[0].pvBuffer = pbMessage;
    Buffers[0].cbBuffer = pSizes->cbHeader;
    Buffers[1].BufferType = SECBUFFER_DATA;
    Buffers[1].pvBuffer = pbMessage + pSizes->cbHeader;
    Buffers[1].cbBuffer = cbData;
    Buffers[2].BufferType = SECBUFFER_STREAM_TRAILER;
    Buffers[2].pvBuffer = pbMessage + pSizes->cbHeader + cbData;
    Buffers[2].cbBuffer = pSizes->cbTrailer;
    Buffers[3].BufferType = SECBUFFER_EMPTY;
    Buffers[3].pvBuffer = NULL;
    Buffers[3].cbBuffer = 0;
    Message.ulVersion = SECBUFFER_VERSION;
    Message.cBuffers = 4;
    Message.pBuffers = Buffers;
    ss = EncryptMessage(phCtxt, 0, &Message, 0);
    if (ss == SEC_E_OK &&
        !SendAll(s, pbMessage, Buffers[0].cbBuffer + Buffers[1].cbBuffer + Buffers[2].cbBuffer))
        ss = SEC_E_INTERNAL_ERROR;
    free(pbMessage);
    return ss;
}

/* Reads and decrypts until one record's data arrives: SEC_E_OK with the
 * plaintext copied to pbData (*pcbData bytes), SEC_I_CONTEXT_EXPIRED when the
 * peer sent close_notify (or closed the socket), SEC_I_RENEGOTIATE when the
 * record was a post-handshake message: the caller runs its handshake function
 * again with what is left in pbIo, then calls this again. Bytes received
 * beyond the record stay in pbIo. */
static inline SECURITY_STATUS
ReceiveDecrypt(SOCKET s, PCtxtHandle phCtxt, BYTE *pbIo, DWORD *pcbIo, BYTE *pbData,
               DWORD cbDataMax, DWORD *pcbData)
{
    SecBufferDesc Message;
    SecBuffer Buffers[4];
    SECURITY_STATUS ss;
    ULONG fQOP = 0;
    int i, reads;

    *pcbData = 0;
    for (reads = 0; reads < 100000; reads++) {
        if (*pcbIo == 0) {
            int n = ReadMore(s, pbIo, pcbIo, IO_BUFFER_SIZE);
            if (n == 0)
                return SEC_I_CONTEXT_EXPIRED; /* closed without close_notify */
            if (n < 0)
                return SEC_E_INTERNAL_ERROR;
        }
        Buffers[0].BufferType = SECBUFFER_DATA;
        Buffers[0].pvBuffer = pbIo;
        Buffers[0].cbBuffer = *pcbIo;
        for (i = 1; i < 4; i++) {
            Buffers[i].BufferType = SECBUFFER_EMPTY;
            Buffers[i].pvBuffer = NULL;
            Buffers[i].cbBuffer = 0;
        }
        Message.ulVersion = SECBUFFER_VERSION;
        Message.cBuffers = 4;
        Message.pBuffers = Buffers;
        ss = DecryptMessage(phCtxt, &Message, 0, &fQOP);
        if (ss == SEC_E_INCOMPLETE_MESSAGE) {
            int n = ReadMore(s, pbIo, pcbIo, IO_BUFFER_SIZE);
            if (n <= 0)
                return n == 0 ? SEC_I_CONTEXT_EXPIRED : SEC_E_INTERNAL_ERROR;
            continue;
        }
        if (ss != SEC_E_OK && ss != SEC_I_RENEGOTIATE && ss != SEC_I_CONTEXT_EXPIRED)
            return ss;
        {
            SecBuffer *pData = NULL, *pExtra = NULL;
            for (i = 1; i < 4; i++) {
                if (pData == NULL && Buffers[i].BufferType == SECBUFFER_DATA)
                    pData = &Buffers[i];
                if (pExtra == NULL && Buffers[i].BufferType == SECBUFFER_EXTRA)
                    pExtra = &Buffers[i];
            }
            if (pData != NULL && pData->cbBuffer > 0) {
                if (pData->cbBuffer > cbDataMax)
                    return SEC_E_BUFFER_TOO_SMALL;
                memcpy(pbData, pData->pvBuffer, pData->cbBuffer);
                *pcbData = pData->cbBuffer;
            }
            if (pExtra != NULL) {
                memmove(pbIo, pExtra->pvBuffer, pExtra->cbBuffer);
                *pcbIo = pExtra->cbBuffer;
            } else {
                *pcbIo = 0;
            }
        }
        if (ss != SEC_E_OK || *pcbData > 0)
            return ss;
    }
    return SEC_E_INTERNAL_ERROR;
}

/* The TLS shutdown: ApplyControlToken(SCHANNEL_SHUTDOWN), then one more
 * Initialize/AcceptSecurityContext gives the close_notify alert to send. */
static inline SECURITY_STATUS
SendCloseNotify(SOCKET s, PCredHandle phCred, PCtxtHandle phCtxt, BOOL fServer, LPTSTR pszTarget)
{
    SecBufferDesc Desc;
    SecBuffer Buffers[1];
    DWORD dwType = SCHANNEL_SHUTDOWN;
    ULONG fAttr = 0;
    TimeStamp tsExpiry;
    SECURITY_STATUS ss;

    Buffers[0].BufferType = SECBUFFER_TOKEN;
    Buffers[0].pvBuffer = &dwType;
    Buffers[0].cbBuffer = sizeof(dwType);
    Desc.ulVersion = SECBUFFER_VERSION;
    Desc.cBuffers = 1;
    Desc.pBuffers = Buffers;
    ss = ApplyControlToken(phCtxt, &Desc);
    if (FAILED(ss))
        return ss;
    Buffers[0].BufferType = SECBUFFER_TOKEN;
    Buffers[0].pvBuffer = NULL;
    Buffers[0].cbBuffer = 0;
    if (fServer)
        ss = AcceptSecurityContext(phCred, phCtxt, NULL,
                                   ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT |
                                       ASC_REQ_CONFIDENTIALITY | ASC_REQ_EXTENDED_ERROR |
                                       ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM,
                                   0, NULL, &Desc, &fAttr, &tsExpiry);
    else
        ss = InitializeSecurityContext(phCred, phCtxt, pszTarget,
                                       ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT |
                                           ISC_REQ_CONFIDENTIALITY | ISC_REQ_EXTENDED_ERROR |
                                           ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM,
                                       0, 0, NULL, 0, NULL, &Desc, &fAttr, &tsExpiry);
    if (FAILED(ss))
        return ss;
    return SendToken(s, &Buffers[0]) ? SEC_E_OK : SEC_E_INTERNAL_ERROR;
}

/* Prints a TCHAR string (ASCII; other characters as '?'). */
static inline void
PrintTString(const char *pszLabel, const TCHAR *psz)
{
    printf("%s", pszLabel);
    for (; *psz != 0; psz++)
        putchar((unsigned)*psz < 0x80 ? (int)*psz : '?');
    putchar('\n');
}

/* A WCHAR string of a structure (ASCII; other characters as '?'). */
static inline void
PrintWString(const WCHAR *psz)
{
    for (; *psz != 0; psz++)
        putchar(*psz < 0x80 ? (int)*psz : '?');
}

/* A certificate's subject and issuer, as CertNameToStr writes them. */
static inline void
PrintCertificate(const char *pszWhose, PCCERT_CONTEXT pCert)
{
    TCHAR szName[512];
    printf("%s certificate: %lu bytes\n", pszWhose, (ULONG)pCert->cbCertEncoded);
    CertNameToStr(pCert->dwCertEncodingType, &pCert->pCertInfo->Subject,
                  CERT_X500_NAME_STR | CERT_NAME_STR_NO_PLUS_FLAG, szName,
                  sizeof(szName) / sizeof(szName[0]));
    PrintTString("  subject: ", szName);
    CertNameToStr(pCert->dwCertEncodingType, &pCert->pCertInfo->Issuer,
                  CERT_X500_NAME_STR | CERT_NAME_STR_NO_PLUS_FLAG, szName,
                  sizeof(szName) / sizeof(szName[0]));
    PrintTString("  issuer:  ", szName);
}

/* SECPKG_ATTR_CONNECTION_INFO and SECPKG_ATTR_CIPHER_INFO, as the Windows
 * samples print them. */
static inline void
PrintConnectionInfo(PCtxtHandle phCtxt)
{
    SecPkgContext_ConnectionInfo ConnInfo;
    SecPkgContext_CipherInfo CipherInfo;
    SECURITY_STATUS ss = QueryContextAttributes(phCtxt, SECPKG_ATTR_CONNECTION_INFO, &ConnInfo);

    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "QueryContextAttributes(SECPKG_ATTR_CONNECTION_INFO)", ss);
        return;
    }
    printf("protocol: 0x%lx (%s)\n", (ULONG)ConnInfo.dwProtocol,
           (ConnInfo.dwProtocol & SP_PROT_TLS1_3)   ? "TLS 1.3"
           : (ConnInfo.dwProtocol & SP_PROT_TLS1_2) ? "TLS 1.2"
                                                    : "other");
    printf("cipher: 0x%x, %lu bits; hash: 0x%x, %lu bits; exchange: 0x%x, %lu bits\n",
           (unsigned)ConnInfo.aiCipher, (ULONG)ConnInfo.dwCipherStrength, (unsigned)ConnInfo.aiHash,
           (ULONG)ConnInfo.dwHashStrength, (unsigned)ConnInfo.aiExch,
           (ULONG)ConnInfo.dwExchStrength);
    ss = QueryContextAttributes(phCtxt, SECPKG_ATTR_CIPHER_INFO, &CipherInfo);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "QueryContextAttributes(SECPKG_ATTR_CIPHER_INFO)", ss);
        return;
    }
    {
        SecPkgContext_KeyInfo KeyInfo;
        SecPkgContext_SessionKey SessionKey;
        if (QueryContextAttributes(phCtxt, SECPKG_ATTR_KEY_INFO, &KeyInfo) == SEC_E_OK) {
            PrintTString("key info: signature ", KeyInfo.sSignatureAlgorithmName);
            PrintTString("          cipher ", KeyInfo.sEncryptAlgorithmName);
            printf("          %lu bits, ALG_IDs 0x%lx / 0x%lx\n", (ULONG)KeyInfo.KeySize,
                   (ULONG)KeyInfo.SignatureAlgorithm, (ULONG)KeyInfo.EncryptAlgorithm);
            FreeContextBuffer(KeyInfo.sSignatureAlgorithmName);
            FreeContextBuffer(KeyInfo.sEncryptAlgorithmName);
        }
        if (QueryContextAttributes(phCtxt, SECPKG_ATTR_SESSION_KEY, &SessionKey) == SEC_E_OK) {
            printf("session key: %lu bytes\n", (ULONG)SessionKey.SessionKeyLength);
            FreeContextBuffer(SessionKey.SessionKey);
        }
    }
    printf("cipher suite: 0x%04lx ", (ULONG)CipherInfo.dwCipherSuite);
    PrintWString(CipherInfo.szCipherSuite);
    printf(" (");
    PrintWString(CipherInfo.szCipher);
    printf(" %lu, ", (ULONG)CipherInfo.dwCipherLen);
    PrintWString(CipherInfo.szHash);
    printf(", ");
    PrintWString(CipherInfo.szExchange);
    printf(", ");
    PrintWString(CipherInfo.szCertificate);
    printf(")\n");
}

#endif
