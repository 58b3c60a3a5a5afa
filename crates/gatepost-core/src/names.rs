//! Enums with one name each: the same string on the wire, in the database and in the API.
//!
//! strum derives each enum's table of names (`IntoStaticStr`, `VariantArray`); [`Named`]
//! gives every such enum the same `as_str`, `parse` and `ALL`, so no enum writes its own
//! pair. serde keeps its own attributes (the OpenAPI schema reads them); each enum's tests
//! check that the two agree (`serde_names_agree`).

use strum::VariantArray;

/// An enum whose variants each have one name.
pub trait Named: Copy + Into<&'static str> + VariantArray + 'static {
    /// Every variant, in declaration order.
    const ALL: &'static [Self] = Self::VARIANTS;

    /// The variant's name.
    fn as_str(self) -> &'static str {
        self.into()
    }

    /// The variant with this exact name.
    fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|variant| variant.as_str() == name)
    }
}

impl<T: Copy + Into<&'static str> + VariantArray + 'static> Named for T {}

/// Whether serde writes every variant of `T` as its [`Named`] name, and reads it back.
#[cfg(test)]
pub(crate) fn serde_names_agree<T>() -> bool
where
    T: Named + serde::Serialize + serde::de::DeserializeOwned + PartialEq,
{
    T::ALL.iter().all(|&variant| {
        let json = serde_json::to_string(&variant).expect("an enum serializes");
        json == format!("\"{}\"", variant.as_str()) && serde_json::from_str::<T>(&json).ok() == Some(variant)
    })
}
