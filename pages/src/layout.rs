//! The page shell: language, viewport, the one stylesheet, a header with the way home and the
//! sign-out form, and the main content.

use maud::{html, Markup, DOCTYPE};

use crate::assets;
use crate::context::Ctx;

/// A whole page titled `title` around `content`.
pub fn page(ctx: &Ctx, title: &str, content: Markup) -> Markup {
    page_refreshed(ctx, title, content, None)
}

/// As [`page`], reloaded by the browser every `refresh` seconds when given (the code page,
/// so the code shown is always fresh).
pub fn page_refreshed(ctx: &Ctx, title: &str, content: Markup, refresh: Option<u32>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(seconds) = refresh { meta http-equiv="refresh" content=(seconds); }
                title { (title) " · 粤康码" }
                link rel="stylesheet" href=(assets::url("site.css"));
            }
            body {
                header class="top" {
                    a href="/" class="brand" { "粤康码" }
                    @if ctx.person.is_some() {
                        nav aria-label="功能" {
                            a href="/" { "我的粤康码" }
                            a href="/declare" { "健康申报" }
                            a href="/history" { "我的记录" }
                            a href="/bind" { "绑定" }
                            a href="/work" { "工作台" }
                        }
                        form method="post" action="/logout" class="inline" {
                            (csrf_field(ctx))
                            button type="submit" class="link" { "退出" }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// The hidden anti-forgery field every form carries.
pub fn csrf_field(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// A labelled text field with its error (if any) right below it, tied to it for readers.
pub fn field(
    name: &str,
    label: &str,
    value: &str,
    kind: &str,
    error: Option<&str>,
    hint: Option<&str>,
) -> Markup {
    let error_id = format!("{name}-error");
    html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for=(name) { (label) }
            @if let Some(hint) = hint { small class="hint" { (hint) } }
            input id=(name) name=(name) type=(kind) value=(value)
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| error_id.as_str())];
            @if let Some(error) = error {
                p id=(error_id) class="error" role="alert" { (error) }
            }
        }
    }
}

/// A message for the whole form (a rule the request broke, not one field).
pub fn notice(kind: &str, text: &str) -> Markup {
    html! { p class=(format!("notice {kind}")) role="status" { (text) } }
}

/// The code field of a scanning form: the code read by the camera or from an uploaded picture
/// (`scan.js`, where the browser has `BarcodeDetector`) or pasted, its error below it, and the submit button
/// labelled `submit`. The page loads `scan.js` itself.
pub fn code_field(label: &str, token: &str, error: Option<&str>, submit: &str) -> Markup {
    html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for="token" { (label) }
            small class="hint" { "用摄像头扫码，或粘贴、输入码的内容" }
            textarea id="token" name="token" aria-describedby=[error.map(|_| "token-error")] { (token) }
            @if let Some(e) = error { p id="token-error" class="error" role="alert" { (e) } }
        }
        video id="preview" hidden playsinline muted {}
        label id="upload" class="field" hidden {
            span { "或上传码的图片" }
            input type="file" accept="image/*";
        }
        p class="actions" {
            button type="button" id="camera" class="secondary" hidden { "用摄像头扫码" }
            button type="submit" id="scan" { (submit) }
        }
    }
}

/// A code's colour as the pages show it: its CSS class and its name in words.
pub fn colour(colour: domain::health_code::Colour) -> (&'static str, &'static str) {
    match colour {
        domain::health_code::Colour::Green => ("green", "绿码"),
        domain::health_code::Colour::Red => ("red", "红码"),
    }
}

/// One figure of a dashboard: the number, and what it counts.
pub fn figure(id: &str, label: &str, n: impl std::fmt::Display) -> Markup {
    html! { div class="figure" id=(id) { span class="n" { (n) } span { (label) } } }
}

/// The day asked for (`?date=`), as the dashboards take it.
#[derive(Debug, serde::Deserialize)]
pub struct DayQuery {
    pub date: Option<String>,
}

/// A dashboard's date picker, sending `?date=` to `action`.
pub fn date_picker(action: &str, day: &str, error: Option<&str>) -> Markup {
    html! {
        form method="get" action=(action) class="card" {
            (field("date", "日期", day, "date", error, None))
            button type="submit" class="secondary" { "查看" }
        }
    }
}
