/*
 * fcgirec_int — the record primitives fcgirec.c (the parser) and
 * fcgirec_out.c (response framing) share. Not for other modules (they
 * use fcgirec.h); the unit test includes it to build and read records.
 */
#ifndef WRG_FCGIREC_INT_H
#define WRG_FCGIREC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fcgirec.h"

/* Reads the name-value pair at buf[*off] (1- or 4-byte lengths). On
 * FCGIREC_OK sets the pointers into buf and advances *off; a pair cut
 * short or a length past len is FCGIREC_BAD_PARAMS. */
enum fcgirec_err fcgirec_nv_next(const uint8_t *buf, size_t len,
    size_t *off, const uint8_t **name, size_t *nlen, const uint8_t **val,
    size_t *vlen);

/* Writes a record header into out. */
void fcgirec_header(uint8_t out[FCGIREC_HEADER_LEN], enum fcgirec_type type,
    uint16_t id, uint16_t clen, uint8_t plen);

/* Writes an END_REQUEST record (16 bytes) into out. */
void fcgirec_end_request(uint8_t out[16], uint16_t id, uint32_t app_status,
    enum fcgirec_status status);

#endif
