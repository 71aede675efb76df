/** Texts of the sign-in methods (passkeys, single sign-on), in English and Korean. */
export const signInEn = {
  signInPasskey: 'Sign in with a passkey',
  signInOidc: 'Sign in with your organisation (SSO)',
  signInOr: 'or, for development:',
  passkeyRegister: 'Add a passkey',
  passkeyRegistered: 'Passkey added: you can sign in with it next time.',
};

export const signInKo: Record<keyof typeof signInEn, string> = {
  signInPasskey: '패스키로 로그인',
  signInOidc: '기관 통합 로그인(SSO)',
  signInOr: '또는 개발용 로그인:',
  passkeyRegister: '패스키 등록',
  passkeyRegistered: '패스키를 등록했습니다. 다음부터 패스키로 로그인할 수 있습니다.',
};
