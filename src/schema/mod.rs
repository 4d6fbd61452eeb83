//! The language schema: every built-in kind, where it may appear, what it
//! names, its positional arguments and its attributes with their types and
//! defaults. One table serves the declaration checks, `docs/language.md`
//! and the editor (hover and completion). It says nothing of how a kind is
//! compiled; that is the model's and the targets' business.

pub mod defaults;
mod kinds;
mod loadtest;
pub use kinds::{KINDS, SWARM_ROLES};
pub use loadtest::{HTTP_METHODS, LOAD_MODELS, METRICS, PICKS};

/// The type an argument or attribute accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    /// An integer or a decimal (`0.5`).
    Number,
    Bool,
    Str,
    Size,
    Duration,
    Cidr,
    /// A bare word or a string from a catalog (machine type, zone, disk type).
    Word,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// `tcp:80,443`, or a list of them.
    PortSpec,
    /// `80:8080`, or a list of them.
    PortMap,
    /// A reference to a declaration of one of these kinds (`"vm"`, `"service"`, ...).
    Ref(&'static [&'static str]),
    ListOf(&'static Ty),
    Map,
    /// Anything: checked where it is used.
    Any,
}

impl Ty {
    /// How the type is named in messages and hovers.
    pub fn describe(self) -> String {
        match self {
            Ty::Int => "an integer".into(),
            Ty::Number => "a number".into(),
            Ty::Bool => "`true` or `false`".into(),
            Ty::Str => "a string".into(),
            Ty::Size => "a size such as `20GB`".into(),
            Ty::Duration => "a duration such as `30s`".into(),
            Ty::Cidr => "an address range such as `10.0.0.0/24`".into(),
            Ty::Word => "a name".into(),
            Ty::Enum(words) => format!(
                "one of {}",
                words
                    .iter()
                    .map(|w| format!("`{w}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Ty::PortSpec => "ports such as `tcp:80,443`".into(),
            Ty::PortMap => "a port mapping such as `80:8080`".into(),
            Ty::Ref(kinds) => format!("a reference to a {}", kinds.join(" or ")),
            Ty::ListOf(inner) => format!(
                "a list of {}",
                inner
                    .describe()
                    .trim_start_matches("a ")
                    .trim_start_matches("an ")
            ),
            Ty::Map => "a map such as `{ key: \"value\" }`".into(),
            Ty::Any => "a value".into(),
        }
    }
}

/// Where a declaration may stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// At the top of a file (also inside a module body).
    Top,
    /// Inside a `vm` body.
    Vm,
    /// Inside a `service` body.
    Service,
    /// Inside a `loadtest` body.
    Loadtest,
    /// Inside a `step` body (in a `loadtest`).
    Step,
}

impl Place {
    /// Where the declarations in the body of a `kind` stand.
    pub fn inside(kind: &str) -> Place {
        match kind {
            "vm" => Place::Vm,
            "service" => Place::Service,
            "loadtest" => Place::Loadtest,
            "step" => Place::Step,
            _ => Place::Top,
        }
    }

    /// How the place is named in messages ("belongs inside a `vm` body").
    pub fn describe(self) -> &'static str {
        match self {
            Place::Top => "at the top of a file or module",
            Place::Vm => "inside a `vm` body",
            Place::Service => "inside a `service` body",
            Place::Loadtest => "inside a `loadtest` body",
            Place::Step => "inside a `step` body",
        }
    }
}

/// What the subject of a declaration must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// No subject: `gce { .. }`, `import "x";`.
    None,
    /// A plain name: `disk data 20GB;`.
    Name,
    /// A name with an optional group count: `vm worker[4] ..`.
    NameOrGroup,
    /// One or more names: `secret a, b;`.
    Names,
    /// One or more references to existing declarations: `secret a, b;` in a service.
    Refs(&'static [&'static str]),
}

/// Whether `= VALUE` is allowed after the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRule {
    Forbidden,
    Optional,
    Required,
}

#[derive(Debug, Clone, Copy)]
pub struct ArgSchema {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct KindSchema {
    pub name: &'static str,
    pub place: Place,
    pub doc: &'static str,
    pub subject: Subject,
    pub value: ValueRule,
    /// Positional arguments in order; a flag (`readonly`) is an `Enum` of one word.
    pub positional: &'static [ArgSchema],
    /// Attributes, written `key=value` after the subject or `key = value` in the body.
    pub attrs: &'static [ArgSchema],
    /// Whether a `{ body }` is allowed.
    pub body: bool,
    pub example: &'static str,
}

impl KindSchema {
    pub fn attr(&self, name: &str) -> Option<&ArgSchema> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// The built-in kind of this name that may stand in this place.
pub fn kind(name: &str, place: Place) -> Option<&'static KindSchema> {
    KINDS.iter().find(|k| k.name == name && k.place == place)
}

/// Any built-in kind of this name (for hovers).
pub fn kinds_named(name: &str) -> impl Iterator<Item = &'static KindSchema> + use<'_> {
    KINDS.iter().filter(move |k| k.name == name)
}

/// Names of the kinds allowed in a place.
pub fn kind_names(place: Place) -> impl Iterator<Item = &'static str> {
    KINDS
        .iter()
        .filter(move |k| k.place == place)
        .map(|k| k.name)
}
