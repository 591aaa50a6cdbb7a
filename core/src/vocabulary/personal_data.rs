//! Personal data (the `identity` of a `registered` event) and its sealed, stored form.
//!
//! The log is immutable, yet a person may ask to be forgotten and the CNIL asks that data not be
//! kept forever. So identity is never stored in clear: the store seals it with a key of the
//! beneficiary's own (see `keys`), and erasing the key erases the data while the log, its hashes and
//! every statistic stay intact (crypto-shredding).

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use bincode::{Decode, Encode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::values::Date;

/// What a coordinator records about who the person is. Every field is optional: a structure may
/// follow someone known only by a first name.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize, Encode, Decode)]
#[serde(deny_unknown_fields)]
pub struct PersonalData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl PersonalData {
    /// "First Last", or whichever part is known.
    pub fn display_name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name].into_iter().flatten().map(String::as_str).collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// Personal data encrypted with XChaCha20-Poly1305 under the beneficiary's key; the associated data
/// binds it to its stream and event, so a ciphertext cannot be moved to another person.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct Sealed {
    pub nonce: [u8; 24],
    pub ciphertext: Vec<u8>,
}

/// The `identity` field: clear on the way in and on the way out to those allowed to see it, sealed
/// in the store. Serialising a sealed identity gives `null` (fail closed: whoever forgets to open it
/// shows nothing); encoding a clear one for the disk is an error.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum IdentityField {
    Clear(PersonalData),
    Sealed(Sealed),
}

impl Serialize for IdentityField {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            IdentityField::Clear(data) => data.serialize(serializer),
            IdentityField::Sealed(_) => serializer.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for IdentityField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PersonalData::deserialize(deserializer).map(IdentityField::Clear)
    }
}

impl Encode for IdentityField {
    fn encode<E: Encoder>(&self, encoder: &mut E) -> Result<(), EncodeError> {
        match self {
            IdentityField::Sealed(sealed) => sealed.encode(encoder),
            IdentityField::Clear(_) => Err(EncodeError::Other("personal data must be sealed before it is stored")),
        }
    }
}

impl<Context> Decode<Context> for IdentityField {
    fn decode<D: Decoder<Context = Context>>(decoder: &mut D) -> Result<Self, DecodeError> {
        Sealed::decode(decoder).map(IdentityField::Sealed)
    }
}
bincode::impl_borrow_decode!(IdentityField);
