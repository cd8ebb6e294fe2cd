//! The health code as a picture: the signed code token rendered as an SVG QR code in the
//! colour of the person's current status.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The smallest width and height of the picture, in pixels, quiet zone included.
pub const MIN_SIZE_PX: u32 = 240;

/// The colour a health code is drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrColour {
    Green,
    Red,
}

impl QrColour {
    /// The colour of the dark modules.
    pub fn dark_hex(self) -> &'static str {
        match self {
            QrColour::Green => "#0a8f3c",
            QrColour::Red => "#d0021b",
        }
    }
}

/// The colour of the light modules and the quiet zone.
pub const LIGHT_HEX: &str = "#ffffff";

/// Why a QR code could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("the payload of {len} bytes does not fit in a QR code at error-correction level M")]
    TooLong { len: usize },
}

/// `payload` as an SVG QR code (error correction M, with its quiet zone), at least
/// [`MIN_SIZE_PX`] square.
pub fn code_svg(payload: &str, colour: QrColour) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|_| QrError::TooLong { len: payload.len() })?;
    Ok(code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(MIN_SIZE_PX, MIN_SIZE_PX)
        .dark_color(svg::Color(colour.dark_hex()))
        .light_color(svg::Color(LIGHT_HEX))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "YK1.c1.AAAAAAAAAAAAAAAAAAAAAA.QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ";

    fn width(svg: &str) -> u32 {
        let start = svg.find("width=\"").expect("width") + 7;
        let end = svg[start..].find('"').expect("quote") + start;
        svg[start..end].parse().expect("number")
    }

    #[test]
    fn green_and_red_codes_are_svg_in_their_colour() {
        let green = code_svg(TOKEN, QrColour::Green).expect("green");
        assert!(green.contains("<svg"));
        assert!(green.contains("#0a8f3c"));
        assert!(green.contains("#ffffff"));
        assert!(width(&green) >= MIN_SIZE_PX);
        let red = code_svg(TOKEN, QrColour::Red).expect("red");
        assert!(red.contains("<svg"));
        assert!(red.contains("#d0021b"));
        assert!(!red.contains("#0a8f3c"));
    }

    #[test]
    fn a_payload_too_long_for_a_qr_code_is_an_error() {
        let huge = "x".repeat(5_000);
        assert!(matches!(
            code_svg(&huge, QrColour::Green),
            Err(QrError::TooLong { len: 5_000 })
        ));
    }
}
