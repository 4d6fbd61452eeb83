//! A user's state between requests: the values earlier steps extracted,
//! its own random identity, and its cookies. Filling templates in.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::loadtest::{JsonTemplate, Part, Template};

/// Everything one user carries from step to step.
pub struct UserState {
    pub id: u32,
    pub iteration: u32,
    /// Name and password, made on first use (most flows of a benchmark
    /// never ask).
    identity: Option<(String, String)>,
    pub extracted: BTreeMap<String, Value>,
    pub cookies: BTreeMap<String, String>,
    rng: fastrand::Rng,
}

fn alnum(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n)
        .map(|_| rng.alphanumeric().to_ascii_lowercase())
        .collect()
}

impl UserState {
    pub fn new(id: u32) -> Self {
        UserState {
            id,
            iteration: 0,
            identity: None,
            extracted: BTreeMap::new(),
            cookies: BTreeMap::new(),
            rng: fastrand::Rng::new(),
        }
    }

    /// The user's name and password.
    fn identity(&mut self) -> &(String, String) {
        let (id, rng) = (self.id, &mut self.rng);
        self.identity.get_or_insert_with(|| {
            // At most 14 characters, letters and digits only: what most
            // sign-up forms (Misago's among them) accept.
            let digits = id.to_string();
            let rest = 13usize.saturating_sub(digits.len()).max(3);
            let name = format!("u{digits}{}", alnum(rng, rest));
            let password = format!("Pw-{}-{}", alnum(rng, 8), alnum(rng, 8));
            (name, password)
        })
    }

    /// The value of a run-time variable.
    pub fn var(&mut self, path: &str) -> Option<Value> {
        Some(match path {
            "user.id" => self.id.into(),
            "user.name" => self.identity().0.clone().into(),
            "user.email" => format!("{}@example.com", self.identity().0).into(),
            "user.password" => self.identity().1.clone().into(),
            "iteration" => self.iteration.into(),
            "random" => alnum(&mut self.rng, 10).into(),
            other => self.extracted.get(other)?.clone(),
        })
    }

    pub fn render(&mut self, t: &Template) -> Result<String, String> {
        let mut out = String::new();
        for p in &t.0 {
            match p {
                Part::Text(s) => out.push_str(s),
                Part::Var(v) => match self.var(v) {
                    Some(Value::String(s)) => out.push_str(&s),
                    Some(other) => out.push_str(&other.to_string()),
                    None => return Err(format!("`{v}` is not set")),
                },
            }
        }
        Ok(out)
    }

    pub fn render_pairs(
        &mut self,
        pairs: &[(String, Template)],
    ) -> Result<Vec<(String, String)>, String> {
        pairs
            .iter()
            .map(|(k, t)| Ok((k.clone(), self.render(t)?)))
            .collect()
    }

    pub fn render_json(&mut self, t: &JsonTemplate) -> Result<Value, String> {
        Ok(match t {
            JsonTemplate::Value(v) => v.clone(),
            JsonTemplate::Str(s) => Value::String(self.render(s)?),
            JsonTemplate::Var(v) => self.var(v).ok_or_else(|| format!("`{v}` is not set"))?,
            JsonTemplate::List(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.render_json(i))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_json(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    /// The `Cookie` header value, if the user holds any cookie.
    pub fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Keeps (or, with `Max-Age=0` or an empty value, drops) a `Set-Cookie`.
    pub fn set_cookie(&mut self, header: &str) {
        let mut parts = header.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        let expired = parts.any(|a| {
            let a = a.trim().to_ascii_lowercase();
            a.strip_prefix("max-age=")
                .and_then(|n| n.trim().parse::<i64>().ok())
                .is_some_and(|n| n <= 0)
        });
        if expired || value.is_empty() {
            self.cookies.remove(name);
        } else {
            self.cookies.insert(name.to_string(), value.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_kept_replaced_and_dropped() {
        let mut u = UserState::new(3);
        u.set_cookie("csrftoken=abc; expires=Sat, 04 Dec 2027 10:00:00 GMT; Max-Age=31449600; Path=/; SameSite=Lax");
        u.set_cookie("sessionid=s1; HttpOnly; Path=/");
        assert_eq!(
            u.cookie_header().as_deref(),
            Some("csrftoken=abc; sessionid=s1")
        );
        u.set_cookie("csrftoken=def; Path=/");
        u.set_cookie("sessionid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/");
        assert_eq!(u.cookie_header().as_deref(), Some("csrftoken=def"));
    }

    #[test]
    fn user_names_are_short_and_plain() {
        for id in [0, 7, 12345, u32::MAX] {
            let mut u = UserState::new(id);
            let Some(Value::String(name)) = u.var("user.name") else {
                panic!("user.name is a string")
            };
            assert!(name.len() <= 14 && name.len() >= 4, "{name}");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
        }
    }
}
