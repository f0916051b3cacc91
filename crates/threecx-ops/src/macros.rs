//! Macros the generated code uses, so each generated type is one short invocation instead of
//! hand-expanded impls (less code to compile, one place to fix).

/// A string enum that keeps values it does not know: newer PBX versions add enum values, and a
/// client must not fail to read an entity because of one.
#[macro_export]
#[doc(hidden)]
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            /// A value this SDK does not know (sent by a newer PBX); kept as received.
            Unknown(String),
        }

        impl $name {
            /// The value as 3CX writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unknown(s) => s,
                }
            }
        }

        impl ::core::convert::From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($value => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(&*s))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::string_enum!(Colour { Red = "Red", DarkBlue = "DarkBlue" });

    #[test]
    fn known_and_unknown_values_round_trip() {
        let v: Vec<Colour> = serde_json::from_str(r#"["Red","Purple"]"#).unwrap();
        assert_eq!(v, vec![Colour::Red, Colour::Unknown("Purple".into())]);
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"["Red","Purple"]"#);
        assert_eq!(Colour::DarkBlue.as_str(), "DarkBlue");
    }
}
