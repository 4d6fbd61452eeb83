//! [`Endpoint`]: the API base URL and the project, from the environment
//! with the same variables and meaning as Terraform's Google provider.

use reqwest::Url;

/// The public Compute Engine v1 base URL.
pub const DEFAULT_BASE_URL: &str = "https://compute.googleapis.com/compute/v1/";
/// Environment variable overriding the base URL.
pub const ENDPOINT_ENV: &str = "GOOGLE_COMPUTE_CUSTOM_ENDPOINT";
/// Environment variable naming the project.
pub const PROJECT_ENV: &str = "GOOGLE_CLOUD_PROJECT";

/// Where requests go and for which project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    base: String,
    project: Option<String>,
}

impl Endpoint {
    /// An endpoint at `base` (an http or https URL; a trailing `/` is
    /// added if missing) for `project`.
    pub fn new(base: &str, project: Option<String>) -> Result<Self, super::GceError> {
        let mut base = base.trim().to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        let url = Url::parse(&base).map_err(|e| {
            super::GceError::Invalid(format!("endpoint {base:?} is not a URL: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(super::GceError::Invalid(format!(
                "endpoint {base:?} must be an http(s) URL without a query"
            )));
        }
        Ok(Endpoint {
            base,
            project: project.filter(|p| !p.trim().is_empty()),
        })
    }

    /// From the environment: base URL from `GOOGLE_COMPUTE_CUSTOM_ENDPOINT`
    /// (else the public API), project from `GOOGLE_CLOUD_PROJECT`, else
    /// `source_project` (the source's `gce.project`).
    pub fn from_env(source_project: Option<&str>) -> Result<Self, super::GceError> {
        let var = |k| std::env::var(k).ok();
        Self::resolve(
            var(ENDPOINT_ENV).as_deref(),
            var(PROJECT_ENV).as_deref(),
            source_project,
        )
    }

    /// [`from_env`](Self::from_env) with the values passed in; empty
    /// values count as unset.
    pub fn resolve(
        custom_endpoint: Option<&str>,
        env_project: Option<&str>,
        source_project: Option<&str>,
    ) -> Result<Self, super::GceError> {
        fn set(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let base = set(custom_endpoint).unwrap_or(DEFAULT_BASE_URL);
        let project = set(env_project).or(set(source_project)).map(str::to_string);
        Self::new(base, project)
    }

    /// The base URL, ending in `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The project, if configured.
    pub fn project(&self) -> Option<&str> {
        self.project.as_deref()
    }

    /// The same endpoint for another project.
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Whether the endpoint is on this machine (`localhost`, 127.0.0.0/8,
    /// `::1`): a local fake such as `fake-gce`, which needs no token.
    pub fn is_loopback(&self) -> bool {
        let Ok(url) = Url::parse(&self.base) else {
            return false;
        };
        let host = url.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The absolute URL of `path` (relative to the base).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints() {
        let at = |u: &str| Endpoint::new(u, None).expect("a URL").is_loopback();
        assert!(at("http://127.0.0.1:8080/compute/v1/"));
        assert!(at("http://localhost:1/"));
        assert!(at("http://[::1]:9/"));
        assert!(!at(DEFAULT_BASE_URL));
        assert!(!at("http://10.0.0.1/"));
    }

    #[test]
    fn defaults_and_overrides() {
        let e = Endpoint::resolve(None, None, None).expect("default");
        assert_eq!(e.base(), DEFAULT_BASE_URL);
        assert_eq!(e.project(), None);

        let e = Endpoint::resolve(
            Some("http://127.0.0.1:8080/compute/v1"),
            Some(""),
            Some("src"),
        )
        .expect("custom");
        assert_eq!(e.base(), "http://127.0.0.1:8080/compute/v1/");
        assert_eq!(e.project(), Some("src"));
        assert_eq!(
            e.url("/projects/p/zones/z/instances"),
            "http://127.0.0.1:8080/compute/v1/projects/p/zones/z/instances"
        );

        let e = Endpoint::resolve(Some(" "), Some("env-p"), Some("src")).expect("env project");
        assert_eq!((e.base(), e.project()), (DEFAULT_BASE_URL, Some("env-p")));
    }

    #[test]
    fn bad_endpoints_are_refused() {
        assert!(Endpoint::new("not a url", None).is_err());
        assert!(Endpoint::new("ftp://x/", None).is_err());
        assert!(Endpoint::new("https://x/?a=b", None).is_err());
    }
}
