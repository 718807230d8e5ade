// SPDX-License-Identifier: MIT
// What the two SSPI samples share (sspi_client.c, sspi_server.c): sockets,
// message framing, SecBuffer descriptions and ASCII <-> TCHAR. Messages on
// the socket are a 4-byte little-endian length, then that many bytes: a DWORD
// is 8 bytes on LP64 Linux, so the length is never sent as a raw DWORD.
#ifndef SSPI_SAMPLE_H
#define SSPI_SAMPLE_H

#define SECURITY_WIN32
#ifdef _WIN32
#include <windows.h>
#include <winsock2.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
typedef int SOCKET;
#define INVALID_SOCKET (-1)
#define closesocket    close
#endif
#include <security.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE 12000 /* bigger than any token of these packages */
#define MAX_LEGS    10    /* no package needs more round trips */

static inline BOOL
SendMsg(SOCKET s, const BYTE *pBuf, DWORD cbBuf)
{
    BYTE hdr[4];
    hdr[0] = (BYTE)(cbBuf & 0xff);
    hdr[1] = (BYTE)((cbBuf >> 8) & 0xff);
    hdr[2] = (BYTE)((cbBuf >> 16) & 0xff);
    hdr[3] = (BYTE)((cbBuf >> 24) & 0xff);
    if (send(s, (const char *)hdr, 4, 0) != 4)
        return FALSE;
    return cbBuf == 0 || send(s, (const char *)pBuf, (int)cbBuf, 0) == (int)cbBuf;
}

static inline BOOL
ReceiveBytes(SOCKET s, BYTE *pBuf, DWORD cbBuf)
{
    DWORD got = 0;
    while (got < cbBuf) {
        int n = (int)recv(s, (char *)pBuf + got, (int)(cbBuf - got), 0);
        if (n <= 0)
            return FALSE;
        got += (DWORD)n;
    }
    return TRUE;
}

/* FALSE when the peer closed or the message is longer than cbBuf. */
static inline BOOL
ReceiveMsg(SOCKET s, BYTE *pBuf, DWORD cbBuf, DWORD *pcbRead)
{
    BYTE hdr[4];
    DWORD cb;
    if (!ReceiveBytes(s, hdr, 4))
        return FALSE;
    cb = (DWORD)hdr[0] | ((DWORD)hdr[1] << 8) | ((DWORD)hdr[2] << 16) | ((DWORD)hdr[3] << 24);
    if (cb > cbBuf)
        return FALSE;
    *pcbRead = cb;
    return ReceiveBytes(s, pBuf, cb);
}

/* One SECBUFFER_TOKEN buffer, as the handshake functions take it. */
static inline void
DescribeToken(SecBufferDesc *pDesc, SecBuffer *pBuffer, void *pv, ULONG cb)
{
    pBuffer->BufferType = SECBUFFER_TOKEN;
    pBuffer->cbBuffer = cb;
    pBuffer->pvBuffer = pv;
    pDesc->ulVersion = SECBUFFER_VERSION;
    pDesc->cBuffers = 1;
    pDesc->pBuffers = pBuffer;
}

/* A message as the message functions take it: the security trailer
 * (SECBUFFER_TOKEN), then the data, encrypted or decrypted in place. */
static inline void
DescribeMessage(SecBufferDesc *pDesc, SecBuffer Buffers[2], void *pTrailer, ULONG cbTrailer,
                void *pData, ULONG cbData)
{
    Buffers[0].BufferType = SECBUFFER_TOKEN;
    Buffers[0].cbBuffer = cbTrailer;
    Buffers[0].pvBuffer = pTrailer;
    Buffers[1].BufferType = SECBUFFER_DATA;
    Buffers[1].cbBuffer = cbData;
    Buffers[1].pvBuffer = pData;
    pDesc->ulVersion = SECBUFFER_VERSION;
    pDesc->cBuffers = 2;
    pDesc->pBuffers = Buffers;
}

/* 127.0.0.1:port (port 0: any free port). */
static inline void
LoopbackAddress(struct sockaddr_in *pSin, USHORT port)
{
    memset(pSin, 0, sizeof(*pSin));
    pSin->sin_family = AF_INET;
    pSin->sin_port = htons(port);
    pSin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* "<what> failed: 0x8009030c", the status as Windows prints it. */
static inline void
PrintFailure(FILE *f, const char *what, SECURITY_STATUS ss)
{
    fprintf(f, "%s failed: 0x%08lx\n", what, (ULONG)(UINT32)ss);
}

/* Deletes the context and frees the credentials, if they were ever made. */
static inline void
ReleaseHandles(PCtxtHandle phCtxt, PCredHandle phCred)
{
    if (SecIsValidHandle(phCtxt))
        DeleteSecurityContext(phCtxt);
    if (SecIsValidHandle(phCred))
        FreeCredentialsHandle(phCred);
    SecInvalidateHandle(phCtxt);
    SecInvalidateHandle(phCred);
}

/* ASCII to TCHAR (WCHAR under UNICODE); free() the result. */
static inline TCHAR *
ToTString(const char *s)
{
    size_t n = strlen(s), i;
    TCHAR *t = (TCHAR *)malloc((n + 1) * sizeof(TCHAR));
    if (t == NULL)
        return NULL;
    for (i = 0; i <= n; i++)
        t[i] = (TCHAR)(UCHAR)s[i];
    return t;
}

#endif
