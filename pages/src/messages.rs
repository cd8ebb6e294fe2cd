//! What a refusal says to a person, in Chinese: each field's error next to the field, the
//! rest above the form. Codes this table does not know fall back to the API's sentence.

use std::collections::BTreeMap;

use services::ServiceError;

/// A refusal as a form shows it.
#[derive(Debug, Clone, Default)]
pub struct Problems {
    /// Field name → message.
    pub fields: BTreeMap<String, String>,
    /// A message for the whole form.
    pub general: Option<String>,
}

impl Problems {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// `error` as a form shows it (`None`: it is no refusal but a failure, shown alike).
    pub fn of(error: &ServiceError) -> Self {
        match error {
            ServiceError::Invalid { errors, .. } => Self {
                fields: errors
                    .iter()
                    .map(|e| {
                        let field = e.field.split('.').next().unwrap_or(&e.field).to_owned();
                        (
                            field,
                            zh(&e.code).map_or_else(|| e.detail.clone(), str::to_owned),
                        )
                    })
                    .collect(),
                general: None,
            },
            other => Self {
                fields: BTreeMap::new(),
                general: Some(general(other)),
            },
        }
    }
}

/// One sentence for a refusal that names no field.
pub fn general(error: &ServiceError) -> String {
    match error {
        ServiceError::Invalid { .. } => "填写的内容有误，请检查后重试".into(),
        ServiceError::Unauthenticated { .. } => "登录已失效，请重新登录".into(),
        ServiceError::Forbidden(_) => "您没有进行此操作的权限".into(),
        ServiceError::NotFound { code, detail } | ServiceError::Gone { code, detail } => {
            zh(code).map_or_else(|| detail.clone(), str::to_owned)
        }
        ServiceError::Conflict {
            code,
            detail,
            extensions,
        } => {
            let sentence = zh(code).map_or_else(|| detail.clone(), str::to_owned);
            match extensions.get("next_allowed_at").and_then(|v| v.as_str()) {
                Some(next) => format!(
                    "{sentence}（下次可修改时间：{}）",
                    next.replace('T', " ").get(..16).unwrap_or(next)
                ),
                None => sentence,
            }
        }
        ServiceError::Unavailable { .. } => "系统繁忙，请稍后重试".into(),
        ServiceError::RateLimited { retry_after_secs } => {
            format!("操作太频繁，请在 {retry_after_secs} 秒后重试")
        }
        ServiceError::Internal(_) => "系统出错了，请稍后重试".into(),
    }
}

/// The Chinese sentence of a stable code.
pub fn zh(code: &str) -> Option<&'static str> {
    Some(match code {
        "name.format" => "请填写姓名（1 至 50 个字）",
        "text.length" => "请填写此项（长度不超过限制）",
        "venue.type" => "请选择场所类型",
        "venue.admin_has_venue" => "您已登记了一个场所，每位管理员只能登记一个",
        "venue.weekly_edit_limit" => "场所信息每个自然周只能修改一次",
        "venue.nothing_to_change" => "没有需要修改的内容",
        "venue.successor_has_venue" => "接任者已经管理着一个场所",
        "venue.successor_is_admin" => "接任者就是您本人",
        "venue.not_bound" => "此人不是本场所的检测员",
        "declaration.none" => "此人还没有健康申报",
        "region.format" => "请填写 9 位镇（街道）区划代码",
        "region.unknown_town" => "请填写广东省内的镇（街道）区划代码",
        "phone.format" => "请填写 11 位手机号码",
        "document.type" => "请选择证件类型",
        "resident_id.length"
        | "resident_id.characters"
        | "resident_id.check_digit"
        | "resident_id.region"
        | "resident_id.birth_date"
        | "resident_id.future_birth_date" => "请填写正确的居民身份证号码",
        "hk_macao_permit.format" => "请填写正确的港澳居民来往内地通行证号码",
        "passport.format" => "请填写正确的护照号码",
        "code.format" | "code.check_digit" => "请填写 8 位绑定码",
        "code.wrong_kind" => "这不是场所的绑定码",
        "venue.unknown_code" => "没有这个场所绑定码",
        "band.unknown" => "请选择体温结果",
        "scan.expired" => "扫码已超过 30 分钟，请重新扫码",
        "scan.unknown" => "没有这次扫码记录",
        "scan.code_not_fresh" => {
            "对方出示的是旧码（如截图或照片），只能查看颜色；请对方刷新粤康码后重新扫码"
        }
        "code_token.reset" => "此码已被持码人重置，不再有效；请对方出示当前的粤康码",
        "check.already_recorded" => "这次扫码已经记录过体温",
        "scan.other_venue" => "这次扫码不是在本场所",
        "code_token.malformed" | "code_token.unknown_key" | "code_token.bad_signature" => {
            "无法识别这个码，请重新扫码"
        }
        "person.unknown" => "没有找到此人",
        "temperature.range" => "请填写合理的体温（℃）",
        "band.mismatch" => "体温与所选的体温情况不一致",
        "declaration.temperature_or_band" => "请填写体温或选择体温情况",
        "symptom.unknown" => "请从列表中选择症状",
        "visited.text" => "每个地点 1 至 100 个字",
        "visited.too_many" => "填写的地点太多了",
        "org.unknown_code" => "没有这个组织机构绑定码",
        "grid.admin_has_grid" => "您已创建了一个网格，每位管理员只能创建一个",
        "grid.pending" => "网格尚未被区域管理员确认，暂不能登记走访",
        "grid.dissolved" => "网格已解散",
        "grid.confirm_code" => "网格码不正确，未解散",
        "region.admin_already_appointed" => "该区域已有管理员",
        "origin.text" => "请填写出发地（1 至 100 个字）",
        "transport.unknown" => "请选择交通方式",
        "trip_number.format" => "请填写正确的航班号、车次或船班",
        "trip_number.required" => "乘坐公共交通需要填写航班号、车次或船班",
        "date.format" => "请填写日期",
        "arrival_date.range" => "抵达日期应在近期内",
        "destination.guangdong" => "目的地应在广东省内",
        "family.match_needs_minor" => "户籍或出生证明核验仅适用于未成年人，成年人请用人脸识别",
        "appeal.already_open" => "这个原因的申诉正在处理中",
        "appeal.reason_not_active" => "这个原因已不在红码原因中",
        "org.admin_has_org" => "您已登记了一个组织机构，每位管理员只能登记一个",
        "org.weekly_edit_limit" => "组织机构信息每个自然周只能修改一次",
        "org.nothing_to_change" => "没有需要修改的内容",
        "level.unknown" => "请选择行政归属层级",
        "grid.unknown_code" => "没有这个网格绑定码",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use services::FieldError;

    #[test]
    fn field_errors_go_to_their_field_in_chinese() {
        let problems = Problems::of(&ServiceError::Invalid {
            code: "validation.failed",
            errors: vec![
                FieldError {
                    field: "name".into(),
                    code: "text.length".into(),
                    detail: "a venue name has 1 to 100 characters".into(),
                },
                FieldError {
                    field: "document.number".into(),
                    code: "some.new_rule".into(),
                    detail: "the API's sentence".into(),
                },
            ],
        });
        assert_eq!(problems.field("name"), Some("请填写此项（长度不超过限制）"));
        assert_eq!(problems.field("document"), Some("the API's sentence"));
        assert!(problems.general.is_none());
        let forbidden = Problems::of(&ServiceError::Forbidden("no".into()));
        assert_eq!(forbidden.general.as_deref(), Some("您没有进行此操作的权限"));
    }
}
