//! Access tokens for the Compute Engine API: a ready token from
//! `GOOGLE_OAUTH_ACCESS_TOKEN`, or whatever `gcp_auth` finds (Application
//! Default Credentials, a service-account JSON file, the metadata server,
//! `gcloud`). Tests use [`TokenSource::fixed`].

use std::fmt;
use std::sync::Arc;

/// Environment variable holding a ready OAuth access token.
pub const ACCESS_TOKEN_ENV: &str = "GOOGLE_OAUTH_ACCESS_TOKEN";

/// The OAuth scope requested from credential providers.
pub const SCOPES: &[&str] = &["https://www.googleapis.com/auth/cloud-platform"];

/// Errors obtaining credentials or tokens.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credentials were found anywhere.
    #[error(
        "no Google Cloud credentials found: set {ACCESS_TOKEN_ENV} or \
         GOOGLE_APPLICATION_CREDENTIALS, or run `gcloud auth application-default login` ({0})"
    )]
    NoCredentials(#[source] gcp_auth::Error),
    /// A provider was found but could not produce a token.
    #[error("could not get a Google Cloud access token: {0}")]
    Token(#[source] gcp_auth::Error),
}

/// Where access tokens come from.
#[derive(Clone)]
pub enum TokenSource {
    /// A fixed token (from `GOOGLE_OAUTH_ACCESS_TOKEN`, or a test's).
    Fixed(String),
    /// A `gcp_auth` provider, which caches and refreshes tokens itself.
    Google(Arc<dyn gcp_auth::TokenProvider>),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Fixed(_) => f.write_str("TokenSource::Fixed(<secret>)"),
            TokenSource::Google(_) => f.write_str("TokenSource::Google"),
        }
    }
}

impl TokenSource {
    /// A source that always answers `token`.
    pub fn fixed(token: impl Into<String>) -> Self {
        TokenSource::Fixed(token.into())
    }

    /// `GOOGLE_OAUTH_ACCESS_TOKEN` if set and not empty, else
    /// `gcp_auth::provider()`.
    pub async fn from_env() -> Result<Self, AuthError> {
        install_crypto_provider();
        if let Ok(token) = std::env::var(ACCESS_TOKEN_ENV)
            && !token.trim().is_empty()
        {
            return Ok(TokenSource::Fixed(token.trim().to_string()));
        }
        gcp_auth::provider()
            .await
            .map(TokenSource::Google)
            .map_err(AuthError::NoCredentials)
    }

    /// [`from_env`](Self::from_env), except that a loopback endpoint (a
    /// local fake) needs no credentials: without a token in the
    /// environment, requests to it carry none.
    pub async fn for_endpoint(endpoint: &super::Endpoint) -> Result<Self, AuthError> {
        let token_set = std::env::var(ACCESS_TOKEN_ENV).is_ok_and(|t| !t.trim().is_empty());
        if !token_set && endpoint.is_loopback() {
            return Ok(TokenSource::Fixed(String::new()));
        }
        Self::from_env().await
    }

    /// A current access token (empty: send none).
    pub async fn token(&self) -> Result<String, AuthError> {
        match self {
            TokenSource::Fixed(t) => Ok(t.clone()),
            TokenSource::Google(p) => p
                .token(SCOPES)
                .await
                .map(|t| t.as_str().to_string())
                .map_err(AuthError::Token),
        }
    }

    /// The project the credentials belong to, when the provider knows it.
    pub async fn project_id(&self) -> Option<String> {
        match self {
            TokenSource::Fixed(_) => None,
            TokenSource::Google(p) => p.project_id().await.ok().map(|p| p.to_string()),
        }
    }
}

/// Installs rustls's `ring` crypto provider as the process default, once.
/// A provider already installed (by us or anyone) is left in place.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider is already the default: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fixed_token_and_redacted_debug() {
        let s = TokenSource::fixed("ya29.secret");
        assert_eq!(s.token().await.expect("token"), "ya29.secret");
        assert!(!format!("{s:?}").contains("ya29"));
        assert_eq!(s.project_id().await, None);
    }

    #[test]
    fn provider_install_is_idempotent() {
        install_crypto_provider();
        install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
