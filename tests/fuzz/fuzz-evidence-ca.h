/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What fuzz-evidence trusts: a manufacturer CA (its key is here for
 * evidence_corpus.py, which signs the corpus's DeviceID certificates with
 * it and reads both from this file), the nonce and the time it verifies
 * with. Written by `evidence_corpus.py --new-ca`. */

static const char fuzz_ca_key_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgmItonKLELTnbB00Y\n"
        "H4GY0YhWwAJ+m/SZaC6zrgPKxNqhRANCAAT2onC4tbcHmkOSQUfAsrTItdk8T6Ky\n"
        "gB//atEvFpSaUt0fQE4vIOfTpWIZC/HYwiWi3/NrawevWWgEBMcCZoRG\n"
        "-----END PRIVATE KEY-----\n";

static const char fuzz_ca_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBiTCCAS6gAwIBAgIQAOcz9rT8ohStv4JAbIoWBTAKBggqhkjOPQQDAjAjMSEw\n"
        "HwYDVQQDDBhyYW1wYXJ0IGZ1enotZXZpZGVuY2UgQ0EwIBcNMjUwMTAxMDAwMDAw\n"
        "WhgPOTk5OTEyMzEyMzU5NTlaMCMxITAfBgNVBAMMGHJhbXBhcnQgZnV6ei1ldmlk\n"
        "ZW5jZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPaicLi1tweaQ5JBR8Cy\n"
        "tMi12TxPorKAH/9q0S8WlJpS3R9ATi8g59OlYhkL8djCJaLf82trB69ZaAQExwJm\n"
        "hEajQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMB0GA1UdDgQW\n"
        "BBToWiG/1ENYqVAL4ipgNbTRuCM5LzAKBggqhkjOPQQDAgNJADBGAiEAv7N2OMqh\n"
        "XfDVFl5D49WJrvlq7ORXarhXb2D75TpbpKQCIQCf7oAb2UiYr449SknxBaPmj2J7\n"
        "Shh1Rw+C0zp/zNvRaQ==\n"
        "-----END CERTIFICATE-----\n";

static const char fuzz_nonce_hex[] = "66757a7a206e6f6e6365203030303031";   /* "fuzz nonce 00001" */

#define FUZZ_EVIDENCE_NOW 1780000000   /* 2026-05-28: the corpus's certificates are valid from 2025-01-01 */
