//! String-valued enums that keep values this version of the kit does not know.
//!
//! The gateway may add a status or an event type before a shop upgrades its kit. A
//! closed enum would then fail to parse the whole webhook, the shop would answer an
//! error, and the gateway would retry an event nobody can read for 30 days. An
//! `Other(String)` variant lets the shop receive it, ignore it and acknowledge it.

/// Declares `pub enum $name { …variants, Other(String) }` with `as_str`, `From<&str>`,
/// `Display` and string (de)serialization. The first variant names the doc examples.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(#[$first_meta:meta])* $first:ident = $first_text:literal,
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(#[$first_meta])* $first,
            $( $(#[$variant_meta])* $variant, )*
            /// A value this version of the kit does not know, kept exactly as sent.
            /// Match the named variants: a known value never arrives as `Other`.
            Other(String),
        }

        impl $name {
            #[doc = concat!(
                "The value as the API writes it.\n\n# Example\n\n```\n",
                "use gatepost_merchant::", stringify!($name), ";\n\n",
                "assert_eq!(", stringify!($name), "::", stringify!($first), ".as_str(), \"", $first_text, "\");\n",
                "assert_eq!(", stringify!($name), "::Other(\"NEW\".into()).as_str(), \"NEW\");\n",
                "```"
            )]
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    Self::$first => $first_text,
                    $( Self::$variant => $text, )*
                    Self::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            #[doc = concat!(
                "Never fails: a value this version does not know becomes `Other`.\n\n# Example\n\n```\n",
                "use gatepost_merchant::", stringify!($name), ";\n\n",
                "assert_eq!(", stringify!($name), "::from(\"", $first_text, "\"), ",
                stringify!($name), "::", stringify!($first), ");\n",
                "assert_eq!(", stringify!($name), "::from(\"NEW\"), ", stringify!($name), "::Other(\"NEW\".into()));\n",
                "```"
            )]
            fn from(text: &str) -> Self {
                match text {
                    $first_text => Self::$first,
                    $( $text => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Ok(Self::from(text.as_str()))
            }
        }
    };
}

pub(crate) use open_enum;
