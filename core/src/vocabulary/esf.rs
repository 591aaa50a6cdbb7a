//! The participant data the ESF+ asks for (Regulation (EU) 2021/1057, Annex I; CONTRACT §11),
//! recorded on `referred`: every answer optional, and every one may be `refused`.
//!
//! Five of them are special-category data (health, origin, housing exclusion): they travel clear
//! in the JSON of a `referred` event, are sealed with the person's key by the store's writer
//! exactly as the identity is ([`SensitiveAnswers`], `store::keys::seal`), and go with the key
//! when the identity is erased. The other two (education level, rural area) are stored clear.

use std::fmt;

use bincode::{Decode, Encode};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

closed_list!(
    /// The highest level of education completed, by ISCED group, as the ESF+ counts it.
    EducationLevel { Isced02 = "isced_0_2", Isced34 = "isced_3_4", Isced58 = "isced_5_8", Refused = "refused" }
);

/// The answer to a yes-or-no question of the ESF+: `true`, `false`, or `"refused"` when the
/// person declines to say (the ESF+ counts refusals apart, and never as a no).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Encode, Decode)]
pub enum Answer {
    No,
    Yes,
    Refused,
}

impl Serialize for Answer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Answer::No => serializer.serialize_bool(false),
            Answer::Yes => serializer.serialize_bool(true),
            Answer::Refused => serializer.serialize_str("refused"),
        }
    }
}

impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnswerVisitor;
        impl Visitor<'_> for AnswerVisitor {
            type Value = Answer;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false or \"refused\"")
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Answer, E> {
                Ok(if value { Answer::Yes } else { Answer::No })
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Answer, E> {
                match value {
                    "refused" => Ok(Answer::Refused),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
        }
        deserializer.deserialize_any(AnswerVisitor)
    }
}

/// The five answers that are special-category data, as they are sealed together: one ciphertext
/// per referral, bound to its stream and event.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Encode, Decode)]
pub struct SensitiveAnswers {
    pub disability: Option<Answer>,
    pub third_country_national: Option<Answer>,
    pub foreign_background: Option<Answer>,
    pub minority: Option<Answer>,
    pub homeless_or_housing_exclusion: Option<Answer>,
}

impl SensitiveAnswers {
    pub fn is_empty(&self) -> bool {
        *self == SensitiveAnswers::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_booleans_or_refused_and_name_what_else_is_wrong() {
        for (text, answer) in [("true", Answer::Yes), ("false", Answer::No), ("\"refused\"", Answer::Refused)] {
            assert_eq!(serde_json::from_str::<Answer>(text).unwrap(), answer);
            assert_eq!(serde_json::to_string(&answer).unwrap(), text);
        }
        let error = serde_json::from_str::<Answer>("\"oui\"").unwrap_err().to_string();
        assert!(error.contains("true, false or \"refused\""), "{error}");
        assert!(serde_json::from_str::<Answer>("1").is_err());
        assert_eq!(serde_json::from_str::<EducationLevel>("\"isced_3_4\"").unwrap(), EducationLevel::Isced34);
    }
}
