/*
 * moim shim: libsrtp 3 API (as used by mediasoup) implemented on libsrtp 2.
 * See include/srtp.h.
 */
#define MOIM_SRTP3_SHIM_IMPL 1
#include "srtp.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Master key + master salt, concatenated as libsrtp 2 expects them. */
#define MOIM_SRTP3_MAX_KEY_AND_SALT 64

struct moim_srtp3_policy
{
	srtp_policy_t p; /* libsrtp 2 policy (no renaming macros in this file). */
	unsigned char key[MOIM_SRTP3_MAX_KEY_AND_SALT];
	int has_profile;
	int has_key;
};

srtp_err_status_t moim_srtp3_policy_create(moim_srtp3_policy_t *policy)
{
	if (policy == NULL)
		return srtp_err_status_bad_param;

	struct moim_srtp3_policy *pol = calloc(1, sizeof(*pol));

	if (pol == NULL)
		return srtp_err_status_alloc_fail;

	pol->p.window_size = 128;
	pol->p.next        = NULL;
	*policy            = pol;

	return srtp_err_status_ok;
}

srtp_err_status_t moim_srtp3_policy_set_ssrc(moim_srtp3_policy_t policy, srtp_ssrc_t ssrc)
{
	if (policy == NULL)
		return srtp_err_status_bad_param;

	policy->p.ssrc = ssrc;

	return srtp_err_status_ok;
}

srtp_err_status_t moim_srtp3_policy_set_profile(moim_srtp3_policy_t policy, srtp_profile_t profile)
{
	if (policy == NULL)
		return srtp_err_status_bad_param;

	srtp_err_status_t err = srtp_crypto_policy_set_from_profile_for_rtp(&policy->p.rtp, profile);

	if (err != srtp_err_status_ok)
		return err;

	err = srtp_crypto_policy_set_from_profile_for_rtcp(&policy->p.rtcp, profile);

	if (err != srtp_err_status_ok)
		return err;

	policy->has_profile = 1;

	return srtp_err_status_ok;
}

srtp_err_status_t moim_srtp3_policy_add_key(
  moim_srtp3_policy_t policy,
  const uint8_t *key,
  size_t key_len,
  const uint8_t *salt,
  size_t salt_len,
  const uint8_t *mki,
  size_t mki_len)
{
	if (policy == NULL || key == NULL || (salt == NULL && salt_len > 0))
		return srtp_err_status_bad_param;

	/* MKI and several keys are libsrtp 3 features this shim does not offer. */
	if ((mki != NULL && mki_len > 0) || policy->has_key)
		return srtp_err_status_bad_param;

	if (key_len + salt_len > sizeof(policy->key))
		return srtp_err_status_bad_param;

	memcpy(policy->key, key, key_len);

	if (salt_len > 0)
		memcpy(policy->key + key_len, salt, salt_len);

	policy->p.key = policy->key;
	policy->has_key = 1;

	return srtp_err_status_ok;
}

srtp_err_status_t moim_srtp3_policy_set_allow_repeat_tx(moim_srtp3_policy_t policy, int allow)
{
	if (policy == NULL)
		return srtp_err_status_bad_param;

	policy->p.allow_repeat_tx = allow ? 1 : 0;

	return srtp_err_status_ok;
}

srtp_err_status_t moim_srtp3_policy_set_window_size(moim_srtp3_policy_t policy, size_t window_size)
{
	if (policy == NULL)
		return srtp_err_status_bad_param;

	policy->p.window_size = (unsigned long)window_size;

	return srtp_err_status_ok;
}

srtp_err_status_t moim_srtp3_policy_destroy(moim_srtp3_policy_t policy)
{
	if (policy != NULL)
	{
		/* Do not leave key material in freed memory. */
		memset(policy->key, 0, sizeof(policy->key));
		free(policy);
	}

	return srtp_err_status_ok;
}

srtp_err_status_t moim_srtp3_create(srtp_t *session, const moim_srtp3_policy_t policy)
{
	if (session == NULL)
		return srtp_err_status_bad_param;

	if (policy == NULL)
		return srtp_create(session, NULL);

	if (!policy->has_profile || !policy->has_key)
		return srtp_err_status_bad_param;

	return srtp_create(session, &policy->p);
}

/* libsrtp 2 works in place and writes its trailer after the packet. */
static srtp_err_status_t moim_protect_common(
  int rtcp,
  srtp_t ctx,
  const uint8_t *in,
  size_t in_len,
  uint8_t *out,
  size_t *out_len,
  size_t mki_index)
{
	if (in == NULL || out == NULL || out_len == NULL)
		return srtp_err_status_bad_param;

	if (mki_index != 0)
		return srtp_err_status_bad_mki;

	/* SRTCP adds the 4 byte E flag + index word besides the tag. */
	const size_t needed = in_len + SRTP_MAX_TRAILER_LEN + (rtcp ? 4 : 0);

	if (in_len > (size_t)INT_MAX - SRTP_MAX_TRAILER_LEN - 4)
		return srtp_err_status_bad_param;

	if (*out_len < needed)
		return MOIM_SRTP3_ERR_BUFFER_SMALL;

	if (out != in)
		memmove(out, in, in_len);

	int len = (int)in_len;
	srtp_err_status_t err = rtcp ? srtp_protect_rtcp(ctx, out, &len) : srtp_protect(ctx, out, &len);

	if (err != srtp_err_status_ok)
		return err;

	*out_len = (size_t)len;

	return srtp_err_status_ok;
}

static srtp_err_status_t moim_unprotect_common(
  int rtcp, srtp_t ctx, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
	if (in == NULL || out == NULL || out_len == NULL)
		return srtp_err_status_bad_param;

	if (in_len > (size_t)INT_MAX)
		return srtp_err_status_bad_param;

	if (out != in)
	{
		if (*out_len < in_len)
			return MOIM_SRTP3_ERR_BUFFER_SMALL;

		memmove(out, in, in_len);
	}

	int len = (int)in_len;
	srtp_err_status_t err = rtcp ? srtp_unprotect_rtcp(ctx, out, &len) : srtp_unprotect(ctx, out, &len);

	if (err != srtp_err_status_ok)
		return err;

	*out_len = (size_t)len;

	return srtp_err_status_ok;
}

srtp_err_status_t moim_srtp3_protect(
  srtp_t ctx, const uint8_t *rtp, size_t rtp_len, uint8_t *srtp, size_t *srtp_len, size_t mki_index)
{
	return moim_protect_common(0, ctx, rtp, rtp_len, srtp, srtp_len, mki_index);
}

srtp_err_status_t moim_srtp3_unprotect(
  srtp_t ctx, const uint8_t *srtp, size_t srtp_len, uint8_t *rtp, size_t *rtp_len)
{
	return moim_unprotect_common(0, ctx, srtp, srtp_len, rtp, rtp_len);
}

srtp_err_status_t moim_srtp3_protect_rtcp(
  srtp_t ctx, const uint8_t *rtcp, size_t rtcp_len, uint8_t *srtcp, size_t *srtcp_len, size_t mki_index)
{
	return moim_protect_common(1, ctx, rtcp, rtcp_len, srtcp, srtcp_len, mki_index);
}

srtp_err_status_t moim_srtp3_unprotect_rtcp(
  srtp_t ctx, const uint8_t *srtcp, size_t srtcp_len, uint8_t *rtcp, size_t *rtcp_len)
{
	return moim_unprotect_common(1, ctx, srtcp, srtcp_len, rtcp, rtcp_len);
}

srtp_err_status_t moim_srtp3_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}
