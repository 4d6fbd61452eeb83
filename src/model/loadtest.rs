//! Load tests as the model holds them: the flow of steps with their
//! request templates, the load model and the assertions. Values known only
//! while the test runs (what earlier steps extracted, the user's own random
//! data) stay placeholders in [`Template`]s; everything else was computed
//! by `sema`.

use serde::{Deserialize, Serialize};

use crate::span::Span;

/// One `loadtest` declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadTest {
    pub name: String,
    /// Base URL; `None` when it must come from `--target`.
    pub target: Option<String>,
    pub model: LoadModel,
    pub ramp_ms: u64,
    /// Run for this long; otherwise run `iterations`.
    pub duration_ms: Option<u64>,
    pub iterations: u64,
    pub think_ms: u64,
    pub timeout_ms: u64,
    pub steps: Vec<Step>,
    pub asserts: Vec<Assertion>,
    pub span: Span,
}

/// How the load is generated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadModel {
    /// A fixed number of users, each running the flow again and again.
    Closed { users: u64 },
    /// Flows started at a fixed rate whatever the server does, at most
    /// `connections` in flight; latencies count from the planned start.
    Open { rate: f64, connections: u64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub name: String,
    pub method: String,
    pub path: Template,
    pub headers: Vec<(String, Template)>,
    pub query: Vec<(String, Template)>,
    pub body: Body,
    /// Statuses that count as success; empty means 200 to 399.
    pub expect: Vec<u16>,
    /// Pause after the step; `None` is the test's `think`.
    pub think_ms: Option<u64>,
    pub extracts: Vec<Extract>,
    pub span: Span,
}

impl Step {
    pub fn accepts(&self, status: u16) -> bool {
        if self.expect.is_empty() {
            (200..400).contains(&status)
        } else {
            self.expect.contains(&status)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    None,
    Json(JsonTemplate),
    Form(Vec<(String, Template)>),
}

/// Text with placeholders filled in at run time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template(pub Vec<Part>);

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    /// A run-time variable: an extracted name, `user.name`, `iteration`, `random`.
    Var(String),
}

impl Template {
    pub fn text(s: impl Into<String>) -> Self {
        Template(vec![Part::Text(s.into())])
    }
}

/// A JSON body with placeholders.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    Value(serde_json::Value),
    Str(Template),
    /// A variable written bare (`id: thread`): its JSON value as extracted.
    Var(String),
    List(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Extract {
    pub name: String,
    pub source: ExtractSource,
    pub pick: Pick,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExtractSource {
    /// A JSON pointer where a `*` segment stands for every element of a list.
    Json(String),
    Regex(String),
    Cookie(String),
    Header(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    First,
    Last,
    Random,
}

/// `assert METRIC max=LIMIT [step=NAME];`
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    pub metric: Metric,
    pub limit: Limit,
    pub step: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Mean,
    Median,
    P90,
    P95,
    P99,
    Max,
    Errors,
}

impl Metric {
    /// The metric named by a word of [`crate::schema::METRICS`].
    pub fn from_word(w: &str) -> Option<Metric> {
        Some(match w {
            "mean" => Metric::Mean,
            "median" => Metric::Median,
            "p90" => Metric::P90,
            "p95" => Metric::P95,
            "p99" => Metric::P99,
            "max" => Metric::Max,
            "errors" => Metric::Errors,
            _ => return None,
        })
    }

    pub fn word(self) -> &'static str {
        match self {
            Metric::Mean => "mean",
            Metric::Median => "median",
            Metric::P90 => "p90",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::Max => "max",
            Metric::Errors => "errors",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Millis(u64),
    /// Errors as a percentage of the samples.
    Percent(f64),
    /// Errors as a count.
    Count(u64),
}

/// The fields of `user` in a step's strings (per user, fixed for its life).
pub const USER_FIELDS: &[&str] = &["id", "name", "email", "password"];
/// Run-time names every step may use besides extracted ones.
pub const BUILTIN_VARS: &[&str] = &["user", "iteration", "random"];
