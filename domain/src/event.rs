//! Events on the wire: a stable type name, a schema version and a JSON payload.
//!
//! An event enum derives serde with `#[serde(tag = "type", content = "data")]`; the variant
//! name is the wire name and the variant's fields are the payload. A type whose payload
//! changed shape raises its [`DomainEvent::schema_version`] and teaches
//! [`DomainEvent::upcast`] to lift the old shape; stored history is never rewritten.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// An event split into what the store keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedEvent {
    pub event_type: String,
    pub schema_version: u32,
    pub payload: String,
}

/// Why a stored event could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum EventDecodeError {
    #[error("event {event_type} v{schema_version} is not known to this version of Yuekang")]
    Unknown {
        event_type: String,
        schema_version: u32,
    },
    #[error("event {event_type} has a malformed payload: {source}")]
    Malformed {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

/// An event enum that can be stored and read back.
pub trait DomainEvent: Serialize + DeserializeOwned + Sized {
    /// The current schema version of `event_type` (1 unless it has changed shape).
    fn schema_version(_event_type: &str) -> u32 {
        1
    }

    /// Lifts a payload written at `schema_version` to the current shape.
    fn upcast(
        event_type: &str,
        schema_version: u32,
        payload: Value,
    ) -> Result<Value, EventDecodeError> {
        if schema_version == Self::schema_version(event_type) {
            Ok(payload)
        } else {
            Err(EventDecodeError::Unknown {
                event_type: event_type.to_owned(),
                schema_version,
            })
        }
    }

    /// The event's wire name, version and payload.
    fn encode(&self) -> Result<EncodedEvent, serde_json::Error> {
        let mut tagged = serde_json::to_value(self)?;
        let event_type = match tagged.get("type") {
            Some(Value::String(t)) => t.clone(),
            _ => {
                return Err(serde::ser::Error::custom(
                    "event enums must use #[serde(tag = \"type\", content = \"data\")]",
                ))
            }
        };
        let data = tagged
            .get_mut("data")
            .map(Value::take)
            .unwrap_or(Value::Null);
        Ok(EncodedEvent {
            schema_version: Self::schema_version(&event_type),
            payload: serde_json::to_string(&data)?,
            event_type,
        })
    }

    /// Reads a stored event back, upcasting old schema versions.
    fn decode(
        event_type: &str,
        schema_version: u32,
        payload: &str,
    ) -> Result<Self, EventDecodeError> {
        let malformed = |source| EventDecodeError::Malformed {
            event_type: event_type.to_owned(),
            source,
        };
        if schema_version == Self::schema_version(event_type) {
            // Current shape: splice the stored payload into the tagged form and parse once,
            // without building an intermediate `Value` (this is the replay hot path).
            let tag = serde_json::to_string(event_type).map_err(malformed)?;
            let tagged = if payload.trim() == "null" {
                format!("{{\"type\":{tag}}}")
            } else {
                format!("{{\"type\":{tag},\"data\":{payload}}}")
            };
            return serde_json::from_str(&tagged).map_err(malformed);
        }
        let data: Value = serde_json::from_str(payload).map_err(malformed)?;
        let data = Self::upcast(event_type, schema_version, data)?;
        // A unit variant has no `data`; it is stored as `null`.
        let tagged = match data {
            Value::Null => serde_json::json!({ "type": event_type }),
            data => serde_json::json!({ "type": event_type, "data": data }),
        };
        serde_json::from_value(tagged).map_err(malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", content = "data")]
    enum Sample {
        Renamed { name: String },
        Closed,
    }

    impl DomainEvent for Sample {
        fn schema_version(event_type: &str) -> u32 {
            match event_type {
                "Renamed" => 2,
                _ => 1,
            }
        }

        fn upcast(
            event_type: &str,
            schema_version: u32,
            payload: Value,
        ) -> Result<Value, EventDecodeError> {
            match (event_type, schema_version) {
                // v1 called the field `title`.
                ("Renamed", 1) => Ok(serde_json::json!({ "name": payload["title"] })),
                (t, v) if v == Self::schema_version(t) => Ok(payload),
                (t, v) => Err(EventDecodeError::Unknown {
                    event_type: t.to_owned(),
                    schema_version: v,
                }),
            }
        }
    }

    #[test]
    fn round_trips_with_wire_name_and_version() {
        let encoded = Sample::Renamed { name: "A".into() }
            .encode()
            .expect("encode");
        assert_eq!(encoded.event_type, "Renamed");
        assert_eq!(encoded.schema_version, 2);
        assert_eq!(encoded.payload, r#"{"name":"A"}"#);
        let back = Sample::decode("Renamed", 2, &encoded.payload).expect("decode");
        assert_eq!(back, Sample::Renamed { name: "A".into() });
        let unit = Sample::Closed.encode().expect("encode");
        assert_eq!(
            Sample::decode("Closed", 1, &unit.payload).expect("decode"),
            Sample::Closed
        );
    }

    #[test]
    fn old_versions_are_upcast_and_unknown_ones_refused() {
        let old = Sample::decode("Renamed", 1, r#"{"title":"B"}"#).expect("upcast");
        assert_eq!(old, Sample::Renamed { name: "B".into() });
        assert!(matches!(
            Sample::decode("Renamed", 3, "{}"),
            Err(EventDecodeError::Unknown { .. })
        ));
        assert!(matches!(
            Sample::decode("Vanished", 1, "{}"),
            Err(EventDecodeError::Malformed { .. })
        ));
    }
}
