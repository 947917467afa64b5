/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What fuzz-evidence trusts: a manufacturer CA (its key is here for
 * evidence_corpus.py, which signs the corpus's DeviceID certificates with
 * it and reads both from this file), the nonce and the time it verifies
 * with. Written by `evidence_corpus.py --new-ca`. */

static const char fuzz_ca_key_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgItzDvPN9R7wy1/o1\n"
        "SvIBysSbr9Ib3rBd74sS3roFpAWhRANCAARy80XysMk370vRjIFBOk+ucChzQDkR\n"
        "StqiJtyi+hKmWC6omDLenPtACmX5bixRg4Znw+MXtVLgAzlEhwp24wDH\n"
        "-----END PRIVATE KEY-----\n";

static const char fuzz_ca_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBiDCCAS6gAwIBAgIQAOcz9rT8ohStv4JAbIoWBTAKBggqhkjOPQQDAjAjMSEw\n"
        "HwYDVQQDDBhyYW1wYXJ0IGZ1enotZXZpZGVuY2UgQ0EwIBcNMjYwMTAxMDAwMDAw\n"
        "WhgPOTk5OTEyMzEyMzU5NTlaMCMxITAfBgNVBAMMGHJhbXBhcnQgZnV6ei1ldmlk\n"
        "ZW5jZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABHLzRfKwyTfvS9GMgUE6\n"
        "T65wKHNAORFK2qIm3KL6EqZYLqiYMt6c+0AKZfluLFGDhmfD4xe1UuADOUSHCnbj\n"
        "AMejQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMB0GA1UdDgQW\n"
        "BBQ84C6N8sLLe4iN2zspK5WgzzL40DAKBggqhkjOPQQDAgNIADBFAiEA0cXtaruo\n"
        "TSCUkmINPPdlDJ32gTdhMd+fIbAyz89Z5wUCIDT+BapAy82Zd0uqyKTxNGdli7LZ\n"
        "fL2JY0GjOijLaQwP\n"
        "-----END CERTIFICATE-----\n";

static const char fuzz_nonce_hex[] = "66757a7a206e6f6e6365203030303031";   /* "fuzz nonce 00001" */

#define FUZZ_EVIDENCE_NOW 1780000000   /* 2026-05-28: the corpus's certificates are valid from 2026-01-01 */
