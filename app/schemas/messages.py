"""Validation messages in Chinese, with each field's Chinese name.

Marshmallow speaks English ("Not a valid integer.") and names fields as the code does
(``lon``). People at the desk, in the admin pages and behind the API read Chinese, so:

* ``use_chinese_messages()`` gives marshmallow's fields and validators Chinese default
  messages. It runs when this package is first imported, before any schema class (and its
  validators, which format their messages when built) exists;
* ``FIELD_LABELS`` names every field a request can carry; ``labelled()`` puts that name in
  front of each message: ``{"lon": ["经度：须为数字。"]}``. The API keeps the field as the key
  (programs read it), and the text is what a person reads.
"""

from marshmallow import Schema, fields, validate

FIELD_LABELS: dict[str, str] = {
    # cases and intake
    "address": "地址", "anonymous": "匿名", "category": "问题类型", "subcategory": "问题细类", "channel": "来源渠道",
    "coord_system": "坐标系", "description": "问题描述", "title": "标题", "sector": "行业", "priority": "紧急程度",
    "lon": "经度", "lat": "纬度", "received_at": "收到时间", "petitioner_name": "信访人姓名",
    "petitioner_phone": "信访人电话", "petitioner_id_number": "信访人身份证号", "repeat_of_id": "原件（重复件）",
    "suspected_crime": "涉嫌犯罪", "superior_assigned": "上级交办", "inspection_referral": "督察交办",
    "list_kind": "清单类别", "legal_track": "受理定性", "above_level": "越级访", "irregular": "非访",
    "repeat": "重复件", "dissatisfied": "不满意", "open": "未办结", "status": "状态", "grid_id": "网格",
    "town_id": "镇（街道）", "outside_city": "确认为市外", "department_id": "承办部门", "case_id": "案件",
    "case_ids": "案件",
    "received_from": "收到时间（起）", "received_to": "收到时间（止）", "q": "关键词", "tab": "分类标签",
    "work_order_number": "12345/12369 工单号", "since": "同步标记", "towns": "镇（街道）", "months": "各月件数",
    # lifecycle steps
    "notice_text": "告知内容", "override_reason": "改派理由", "responsible_person_id": "责任人",
    "leading_official_id": "包案领导", "reason": "理由", "reason_kind": "理由类别", "days": "天数",
    "measures": "整改措施", "responsible_name": "责任人姓名", "responsible_phone": "责任人电话",
    "target_date": "完成时限", "request_summary": "信访请求", "facts_and_reasons": "事实和理由",
    "decision": "处理意见", "legal_basis": "依据", "satisfaction": "满意度", "not_possible_reason": "无法回访原因",
    "note": "备注", "notes": "说明", "transferred_to": "转往单位", "transfer_reason": "转办理由",
    "visited_at": "走访时间", "kind": "类别", "document_number": "文书编号", "issued_at": "下达时间",
    "amount_yuan": "金额（元）", "amount": "数量", "unit": "单位", "stage": "阶段", "basis": "依据",
    "source_found": "是否找到污染源", "violation_found": "是否存在违法行为", "findings": "核查结论",
    "expected_reply_at": "预计答复时间", "handler_name": "承办人", "handler_phone": "承办人电话",
    "handler_unit": "承办单位", "responsible_unit": "责任单位", "failings": "未尽职责情况",
    # the field app, evidence and photos
    "accuracy_m": "定位精度（米）", "altitude_m": "海拔（米）", "captured_at": "记录时间", "device_id": "设备",
    "location": "位置", "mock": "模拟定位", "photos": "照片", "origin": "照片来源", "no_photo_reason": "无法拍照原因",
    "exif_lat": "照片纬度", "exif_lon": "照片经度", "exif_orientation": "照片方向", "exif_taken_at": "拍摄时间",
    "inspection_id": "现场核查", "inspector_id": "网格员", "discovery": "巡查发现", "track": "轨迹",
    "patrol_id": "巡查", "patrol_checkin_id": "巡查打卡", "started_at": "开始时间", "ended_at": "结束时间",
    "id": "编号", "ids": "编号", "at": "时间", "file": "文件", "files": "文件", "requirement_id": "报送要求",
    "X-Content-SHA256": "内容校验值（请求头）", "X-Photo-Variant": "照片版本（请求头）",
    # sources and patrols
    "source_id": "监管对象", "name": "名称", "permit_number": "许可证号", "is_key": "重点监管", "place": "地点",
    "key_only": "只看重点", "never_patrolled": "从未巡查", "stale_days": "未巡查天数",
    "good_rows_only": "只导入无误的行", "check_only": "只检查不导入", "flag": "标记", "state": "状态",
    # campaign, receptions, checks, accountability
    "start": "开始日期", "end": "结束日期", "year": "年份", "count": "数量", "value": "数值", "code": "代码",
    "starts_on": "开始日期", "ends_on": "结束日期", "due_on": "截止日期", "planned_on": "计划日期",
    "decided_on": "决定日期", "held_at": "接访时间", "fix_at": "整改时限", "person_id": "人员",
    "person_name": "姓名", "person_unit": "单位", "outcome": "结果", "result": "结果", "receivers": "接访人",
    "referred": "交办", "source": "来源", "is_working_day": "是否工作日", "level": "层级", "parent_id": "上级网格",
    # accounts and administration
    "username": "用户名", "password": "密码", "current_password": "当前密码", "new_password": "新密码",
    "phone": "电话", "active": "启用", "format": "格式", "personal": "含个人信息",
    # the map wall and paging
    "west": "西边界", "south": "南边界", "east": "东边界", "north": "北边界", "zoom": "缩放级别",
    "max_seconds": "最长秒数", "page": "页码", "per_page": "每页条数", "limit": "条数上限",
}

_FIELD_MESSAGES: dict[type, dict[str, str]] = {
    fields.Field: {"required": "此项必填。", "null": "不能为空。", "validator_failed": "取值无效。"},
    fields.String: {"invalid": "须为文字。", "invalid_utf8": "含有无效字符（须为 UTF-8 文字）。"},
    fields.Integer: {"invalid": "须为整数。"},
    fields.Number: {"invalid": "须为数字。", "too_large": "数值过大。"},
    fields.Float: {"special": "须为有限的数字。"},
    fields.Decimal: {"special": "须为有限的数字。"},
    fields.Boolean: {"invalid": "须为“是”或“否”。"},
    fields.Date: {"invalid": "须为有效日期，如 2026-12-06。", "format": "无法按日期格式输出。"},
    fields._TemporalField: {"invalid": "须为有效的日期时间，如 2026-12-06T09:30:00+08:00。",
                            "invalid_awareness": "须带时区，如 2026-12-06T09:30:00+08:00。",
                            "format": "无法按日期时间格式输出。"},
    fields.TimeDelta: {"invalid": "须为有效的时长。", "format": "无法按时长格式输出。"},
    fields.List: {"invalid": "须为列表。"},
    fields.Tuple: {"invalid": "须为列表。"},
    fields.Mapping: {"invalid": "须为对象（键值对）。"},
    fields.Nested: {"type": "须为对象（键值对）。"},
    fields.UUID: {"invalid_uuid": "须为有效的 UUID。"},
    fields.Email: {"invalid": "须为有效的电子邮箱。"},
    fields.URL: {"invalid": "须为有效的网址。"},
    fields.Enum: {"unknown": "不是可选的值（可选值见接口文档）。"},
    fields.IP: {"invalid_ip": "须为有效的 IP 地址。"},
}

_VALIDATOR_MESSAGES: dict[type, dict[str, str]] = {
    validate.Range: {"message_min": "须{min_op} {{min}}。", "message_max": "须{max_op} {{max}}。",
                     "message_all": "须{min_op} {{min}} 且{max_op} {{max}}。", "message_gte": "不小于",
                     "message_gt": "大于", "message_lte": "不大于", "message_lt": "小于"},
    validate.Length: {"message_min": "长度须不少于 {min}。", "message_max": "长度须不超过 {max}。",
                      "message_all": "长度须在 {min} 至 {max} 之间。", "message_equal": "长度须为 {equal}。"},
    validate.OneOf: {"default_message": "不是可选的值（可选值见接口文档）。"},
    validate.ContainsOnly: {"default_message": "含有不可选的值。"},
    validate.ContainsNoneOf: {"default_message": "含有不允许的选项：{values}。"},
    validate.Regexp: {"default_message": "格式不正确。"},
    validate.Equal: {"default_message": "须等于 {other}。"},
    validate.NoneOf: {"default_message": "取值无效。"},
    validate.Predicate: {"default_message": "取值无效。"},
    validate.Email: {"default_message": "须为有效的电子邮箱。"},
    validate.URL: {"default_message": "须为有效的网址。"},
}

_SCHEMA_MESSAGES = {"type": "须为对象（键值对）。", "unknown": "不认识的字段。"}


def use_chinese_messages() -> None:
    """Give marshmallow's fields, validators and schemas Chinese default messages."""
    for field_class, messages in _FIELD_MESSAGES.items():
        field_class.default_error_messages = {**field_class.__dict__.get("default_error_messages", {}), **messages}
    for validator_class, messages in _VALIDATOR_MESSAGES.items():
        for name, text in messages.items():
            setattr(validator_class, name, text)
    Schema._default_error_messages = {**Schema._default_error_messages, **_SCHEMA_MESSAGES}


def label(name: str) -> str:
    """The Chinese name of a field (a list index counts from 1: 第 2 项)."""
    if name.isdigit():
        return f"第 {int(name) + 1} 项"
    return FIELD_LABELS.get(name, name)


def labelled(errors: dict, prefix: str = "") -> dict:
    """Marshmallow's error dict with each message led by its field's Chinese name.

    ``{"lon": ["须为数字。"], "findings": {"source_found": [...]}}`` becomes
    ``{"lon": ["经度：须为数字。"], "findings": {"source_found": ["核查结论 · 是否找到污染源：…"]}}``;
    whole-record errors (``_schema``, ``_``) and messages that already name their field
    ("巡查结束时间早于开始时间。" under ``ended_at``) stay as they are.
    """
    out: dict = {}
    for key, value in errors.items():
        key = str(key)
        name = prefix if key.startswith("_") else f"{prefix} · {label(key)}" if prefix else label(key)
        if isinstance(value, dict):
            out[key] = labelled(value, name)
        else:
            items = value if isinstance(value, list) else [value]
            out[key] = [_named(name, label(key), str(text)) for text in items]
    return out


def _named(name: str, own_label: str, text: str) -> str:
    """A message led by the field's name, unless there is none or the message names it already."""
    return text if not name or own_label in text else f"{name}：{text}"


def first_message(errors: dict) -> str:
    """One line for a person: the first labelled message of an error dict."""
    value = next(iter(labelled(errors).values()), "")
    while isinstance(value, dict):
        value = next(iter(value.values()), "")
    return value[0] if isinstance(value, list) and value else str(value)


def error_lines(errors: dict) -> list[str]:
    """Every message of an error dict as one line, led by its field's Chinese name."""
    lines: list[str] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        else:
            lines.extend(value)

    walk(labelled(errors))
    return lines


use_chinese_messages()
