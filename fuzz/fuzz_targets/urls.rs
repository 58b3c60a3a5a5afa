//! Return and webhook URLs: any text is refused or kept in a form that parses to itself —
//! unless parsing made it longer than a URL may be sent (docs/reference/urls.md#form-of-a-url).
#![no_main]

use gatepost_core::urls::{MAX_URL_BYTES, Mode, ReturnUrl, WebhookUrl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(url) = ReturnUrl::parse(raw, Mode::Sandbox, &[]) {
        if url.as_str().len() <= MAX_URL_BYTES {
            let again = ReturnUrl::parse(url.as_str(), Mode::Sandbox, &[]).expect("a kept URL parses again");
            assert_eq!(again.as_str(), url.as_str());
        }
    }
    let _ = WebhookUrl::parse(raw, Mode::Live, true);
});
