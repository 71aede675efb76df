/*
 * moim shim: the libsrtp 3 API that mediasoup uses, on top of the system
 * libsrtp 2 (Debian libsrtp2-dev). mediasoup includes <srtp.h>; this header
 * includes <srtp2/srtp.h> and then maps the libsrtp 3 names whose signature
 * changed onto moim_srtp3_* functions implemented in srtp3_shim.c.
 *
 * Covered: the opaque policy API (srtp_policy_create/_set_ssrc/_set_profile/
 * _add_key/_set_allow_repeat_tx/_set_window_size/_destroy, srtp_create taking
 * such a policy), srtp_protect/srtp_unprotect and their RTCP pair with separate
 * input/output buffers and size_t lengths, srtp_stream_remove, and the
 * libsrtp 3 only status codes. MKI is not supported (mediasoup does not use it).
 */
#ifndef MOIM_SRTP3_SHIM_SRTP_H
#define MOIM_SRTP3_SHIM_SRTP_H

#include <srtp2/srtp.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libsrtp 3 only status codes (libsrtp 3 values; libsrtp 2.5 stops at 27 and
 * never returns them). Defined only when the system header lacks them. */
#ifndef MOIM_HAVE_SRTP_ERR_STATUS_BUFFER_SMALL
#define srtp_err_status_buffer_small ((srtp_err_status_t)28)
#endif
#ifndef MOIM_HAVE_SRTP_ERR_STATUS_CRYPTEX_ERR
#define srtp_err_status_cryptex_err ((srtp_err_status_t)29)
#endif
#define MOIM_SRTP3_ERR_BUFFER_SMALL srtp_err_status_buffer_small

typedef struct moim_srtp3_policy *moim_srtp3_policy_t;

srtp_err_status_t moim_srtp3_policy_create(moim_srtp3_policy_t *policy);
srtp_err_status_t moim_srtp3_policy_set_ssrc(moim_srtp3_policy_t policy, srtp_ssrc_t ssrc);
srtp_err_status_t moim_srtp3_policy_set_profile(moim_srtp3_policy_t policy, srtp_profile_t profile);
srtp_err_status_t moim_srtp3_policy_add_key(
  moim_srtp3_policy_t policy,
  const uint8_t *key,
  size_t key_len,
  const uint8_t *salt,
  size_t salt_len,
  const uint8_t *mki,
  size_t mki_len);
srtp_err_status_t moim_srtp3_policy_set_allow_repeat_tx(moim_srtp3_policy_t policy, int allow);
srtp_err_status_t moim_srtp3_policy_set_window_size(moim_srtp3_policy_t policy, size_t window_size);
srtp_err_status_t moim_srtp3_policy_destroy(moim_srtp3_policy_t policy);

srtp_err_status_t moim_srtp3_create(srtp_t *session, const moim_srtp3_policy_t policy);

srtp_err_status_t moim_srtp3_protect(
  srtp_t ctx, const uint8_t *rtp, size_t rtp_len, uint8_t *srtp, size_t *srtp_len, size_t mki_index);
srtp_err_status_t moim_srtp3_unprotect(
  srtp_t ctx, const uint8_t *srtp, size_t srtp_len, uint8_t *rtp, size_t *rtp_len);
srtp_err_status_t moim_srtp3_protect_rtcp(
  srtp_t ctx, const uint8_t *rtcp, size_t rtcp_len, uint8_t *srtcp, size_t *srtcp_len, size_t mki_index);
srtp_err_status_t moim_srtp3_unprotect_rtcp(
  srtp_t ctx, const uint8_t *srtcp, size_t srtcp_len, uint8_t *rtcp, size_t *rtcp_len);

srtp_err_status_t moim_srtp3_stream_remove(srtp_t session, uint32_t ssrc);

#ifndef MOIM_SRTP3_SHIM_IMPL
/* libsrtp 3 names used by mediasoup. */
#define srtp_policy_t moim_srtp3_policy_t
#define srtp_policy_create moim_srtp3_policy_create
#define srtp_policy_set_ssrc moim_srtp3_policy_set_ssrc
#define srtp_policy_set_profile moim_srtp3_policy_set_profile
#define srtp_policy_add_key moim_srtp3_policy_add_key
#define srtp_policy_set_allow_repeat_tx moim_srtp3_policy_set_allow_repeat_tx
#define srtp_policy_set_window_size moim_srtp3_policy_set_window_size
#define srtp_policy_destroy moim_srtp3_policy_destroy
#define srtp_create moim_srtp3_create
#define srtp_protect moim_srtp3_protect
#define srtp_unprotect moim_srtp3_unprotect
#define srtp_protect_rtcp moim_srtp3_protect_rtcp
#define srtp_unprotect_rtcp moim_srtp3_unprotect_rtcp
#define srtp_stream_remove moim_srtp3_stream_remove
#endif

#ifdef __cplusplus
}
#endif

#endif /* MOIM_SRTP3_SHIM_SRTP_H */
