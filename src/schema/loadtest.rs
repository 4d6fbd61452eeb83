//! The kinds of a load test: `loadtest` at the top, `step` and `assert` in
//! its body, `extract` in a step's body. What they mean at run time is
//! `exec::loadtest`'s business; here is only their shape.

use super::kinds::{kind, may, opt, req};
use super::{KindSchema, Place, Ty};

pub const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];
pub const LOAD_MODELS: &[&str] = &["closed", "open"];
pub const PICKS: &[&str] = &["first", "last", "random"];
/// What an `assert` may bound: latency figures (durations) and `errors`.
pub const METRICS: &[&str] = &["mean", "median", "p90", "p95", "p99", "max", "errors"];

pub const LOADTEST: KindSchema = KindSchema {
    body: true,
    attrs: &[
        may(
            "target",
            Ty::Str,
            "base URL of the requests, e.g. `\"http://127.0.0.1:8080\"` (or `--target URL`)",
        ),
        opt(
            "model",
            Ty::Enum(LOAD_MODELS),
            "closed",
            "`closed`: `users` run the flow with think times; `open`: flows start at `rate` per second",
        ),
        opt(
            "users",
            Ty::Int,
            "1",
            "concurrent users of the closed model",
        ),
        may(
            "rate",
            Ty::Number,
            "flows started per second in the open model",
        ),
        opt(
            "connections",
            Ty::Int,
            "100",
            "flows in flight at most in the open model (latency still counts from the planned start)",
        ),
        opt(
            "ramp",
            Ty::Duration,
            "0s",
            "time over which the users start",
        ),
        may(
            "duration",
            Ty::Duration,
            "how long the test runs (then users stop after their current step)",
        ),
        opt(
            "iterations",
            Ty::Int,
            "1",
            "flows each user runs (closed) or flows in all (open), when no `duration` is given",
        ),
        opt("think", Ty::Duration, "0s", "pause after each step"),
        opt("timeout", Ty::Duration, "30s", "time a request may take"),
    ],
    example: "loadtest smoke target=\"http://127.0.0.1:8080\" users=20 ramp=10s { step home GET \"/\"; }",
    ..kind(
        "loadtest",
        Place::Top,
        "A load test: users running a flow of HTTP steps against a target; `sdbc loadtest FILE` runs it.",
    )
};

pub const STEP: KindSchema = KindSchema {
    body: true,
    positional: &[
        req("method", Ty::Enum(HTTP_METHODS), "the HTTP method"),
        req(
            "path",
            Ty::Str,
            "path and query after the target, with `${var}` for values of earlier steps",
        ),
    ],
    attrs: &[
        may("headers", Ty::Map, "request headers"),
        may("query", Ty::Map, "query parameters"),
        may("json", Ty::Any, "a JSON body: a map, a list or a value"),
        may(
            "form",
            Ty::Map,
            "a form body (`application/x-www-form-urlencoded`)",
        ),
        may(
            "expect",
            Ty::Any,
            "the statuses that count as success: an integer or a list (default: 200 to 399)",
        ),
        may(
            "think",
            Ty::Duration,
            "pause after this step (default: the test's `think`)",
        ),
    ],
    example: "step login POST \"/api/auth/\" json={ username: user.name } expect=200;",
    ..kind(
        "step",
        Place::Loadtest,
        "One request of the flow; a failed step ends that user's iteration.",
    )
};

pub const EXTRACT: KindSchema = KindSchema {
    attrs: &[
        may(
            "json",
            Ty::Str,
            "a JSON pointer into the body, `*` for every element of a list: `\"/results/*/id\"`",
        ),
        may(
            "regex",
            Ty::Str,
            "a regular expression over the body; its first group (or the match)",
        ),
        may(
            "cookie",
            Ty::Str,
            "the value of this cookie (as the user holds it after the step)",
        ),
        may("header", Ty::Str, "the value of this response header"),
        opt(
            "pick",
            Ty::Enum(PICKS),
            "first",
            "which match when there are several",
        ),
    ],
    example: "extract thread json=\"/id\";",
    ..kind(
        "extract",
        Place::Step,
        "A value taken from the step's response, `${NAME}` in later steps; the step fails when it is missing.",
    )
};

pub const ASSERT: KindSchema = KindSchema {
    attrs: &[
        req(
            "max",
            Ty::Any,
            "the limit: a duration for latencies, a percentage string (`\"0.1%\"`) or a count for `errors`",
        ),
        may(
            "step",
            Ty::Word,
            "the step it bounds (default: all samples)",
        ),
    ],
    example: "assert p95 max=500ms;",
    ..kind(
        "assert",
        Place::Loadtest,
        "A limit the run must keep (`mean`, `median`, `p90`, `p95`, `p99`, `max`, `errors`); `sdbc loadtest` exits 1 when it does not.",
    )
};
