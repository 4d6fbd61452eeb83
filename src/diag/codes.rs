//! The table of stable diagnostic codes.
//!
//! Every code here has a page `docs/errors/<CODE>.md` and at least one
//! fixture under `tests/fixtures/` whose snapshot shows it; the test
//! `tests/codes.rs` keeps the three in step. Codes are never reused: a
//! retired code stays in this table's history, not in a new meaning.
//!
//! Ranges: E00xx syntax, E01xx declarations, E02xx names and modules,
//! E03xx Compute Engine, E04xx Swarm services, E05xx code generation, E06xx
//! load tests.

use super::Severity;

/// What the table says about one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    pub code: &'static str,
    pub severity: Severity,
    /// A few words naming the problem (the page title in `docs/errors/`).
    pub title: &'static str,
}

macro_rules! codes {
    ($($variant:ident = $code:literal, $sev:ident, $title:literal;)*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant,)* }

        /// Every code, in order.
        pub const CODES: &[CodeInfo] = &[
            $(CodeInfo { code: $code, severity: Severity::$sev, title: $title },)*
        ];

        impl Code {
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            pub fn info(self) -> CodeInfo {
                match self { $(Code::$variant => CodeInfo { code: $code, severity: Severity::$sev, title: $title },)* }
            }
        }
    };
}

codes! {
    Syntax = "E0001", Error, "syntax error";
    UnterminatedString = "E0002", Error, "unterminated string";
    NestingTooDeep = "E0003", Error, "nesting too deep";
    InvalidUtf8 = "E0004", Error, "source is not valid UTF-8";
    BadLiteral = "E0005", Error, "malformed literal";
    UnknownKind = "E0101", Error, "unknown kind";
    UnknownAttribute = "E0102", Error, "unknown attribute";
    WrongType = "E0103", Error, "wrong value type or unit";
    MissingArgument = "E0104", Error, "missing required argument";
    BadCount = "E0105", Error, "bad group count";
    DuplicateAttribute = "E0106", Error, "duplicate attribute";
    TooManyArguments = "E0107", Error, "too many positional arguments";
    NotAllowedHere = "E0108", Error, "declaration not allowed here";
    MissingName = "E0109", Error, "declaration needs a name";
    BadValue = "E0110", Error, "value not allowed";
    UndefinedName = "E0201", Error, "undefined name";
    DuplicateName = "E0202", Error, "duplicate name";
    IndexOutOfRange = "E0203", Error, "index out of range";
    ImportNotFound = "E0204", Error, "import not found";
    ImportCycle = "E0205", Error, "import cycle";
    UnknownParameter = "E0206", Error, "unknown module parameter";
    MissingParameter = "E0207", Error, "missing module parameter";
    ParamMissing = "E0208", Error, "parameter without a value";
    ModuleRecursion = "E0209", Error, "recursive module";
    Cycle = "E0210", Error, "dependency cycle";
    EnvMissing = "E0211", Error, "environment variable not set";
    FileUnreadable = "E0212", Error, "file cannot be read";
    WrongReference = "E0213", Error, "reference to the wrong kind";
    UnknownField = "E0214", Error, "unknown field";
    IndexOutsideGroup = "E0215", Error, "`index` outside a group";
    TypeMismatch = "E0216", Error, "type mismatch in an expression";
    KnownAfterApply = "E0217", Error, "value known only after apply";
    UnknownMachineType = "E0301", Error, "unknown machine type";
    UnknownLocation = "E0302", Error, "unknown region or zone";
    UnknownImage = "E0303", Error, "unknown image family";
    BadGceName = "E0304", Error, "name Compute Engine would reject";
    UserDataTooLarge = "E0305", Error, "user-data over 256 KiB";
    NoCloudInit = "E0306", Warning, "image does not run cloud-init";
    OpenToWorld = "E0307", Warning, "sensitive port open to the internet";
    ZoneNotInRegion = "E0308", Error, "zone outside the network's region";
    BadDiskType = "E0309", Error, "unknown or unsupported disk type";
    DiskInOtherZone = "E0310", Error, "disk in another zone than its VM";
    SubnetTooSmall = "E0311", Error, "subnetwork range smaller than /29";
    OverApiLimit = "E0312", Error, "over a Compute Engine limit";
    DocumentationRange = "E0313", Warning, "documentation address range";
    RewrittenForApi = "E0314", Warning, "label or tag changed for Compute Engine";
    NoSwarmNodes = "E0401", Error, "placement on VMs outside the swarm";
    PortPublishedTwice = "E0402", Error, "port published twice";
    DoesNotFit = "E0403", Error, "reservations do not fit the machines";
    StatefulReplicas = "E0404", Error, "stateful service with several replicas";
    SecretPrinted = "E0405", Error, "secret would be printed";
    NoManager = "E0406", Error, "services but no swarm manager";
    NoSsh = "E0407", Warning, "Swarm node sdbc cannot reach over SSH";
    TemplateError = "E0501", Error, "template does not render";
    FileNotUtf8 = "E0502", Error, "file is not UTF-8";
    VarNotYetSet = "E0601", Error, "load-test variable used before it is extracted";
}

impl Code {
    pub fn as_str(self) -> &'static str {
        self.info().code
    }

    pub fn parse(code: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
