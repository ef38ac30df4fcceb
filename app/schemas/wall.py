"""What the map wall's endpoints answer (documentation: the wall views send their own JSON,
keyed by ETag, so these schemas describe it rather than dump it)."""

from marshmallow import Schema, fields

STATE = "期限状态：green、yellow、red、closed"


class ClusterSchema(Schema):
    """A cell's cases: how many, where on average, the worst state and the flags any of them has."""

    count = fields.Integer()
    lon = fields.Float()
    lat = fields.Float()
    state = fields.String(metadata={"description": STATE})
    above_level = fields.Boolean()
    inspection = fields.Boolean()
    leader = fields.Boolean()
    case_id = fields.Integer(allow_none=True, metadata={"description": "格内只有一件时为该案件，否则为空"})


class CasePointSchema(Schema):
    """One case at high zoom: position, state and flags only."""

    id = fields.Integer()
    lon = fields.Float()
    lat = fields.Float()
    state = fields.String(metadata={"description": STATE})
    above_level = fields.Boolean()
    inspection = fields.Boolean()
    leader = fields.Boolean()


class ViewportAnswerSchema(Schema):
    """``kind`` says which: ``clusters`` (with ``cell_deg``, ``total``) or ``points``."""

    kind = fields.String(metadata={"description": "clusters 或 points"})
    zoom = fields.Integer()
    cell_deg = fields.Float()
    total = fields.Integer()
    clusters = fields.List(fields.Nested(ClusterSchema))
    points = fields.List(fields.Nested(CasePointSchema))


class VillageMeasureSchema(Schema):
    """Open and overdue cases of one village grid."""

    grid_id = fields.Integer()
    open = fields.Integer()
    overdue = fields.Integer()


class VillagesSchema(Schema):
    """Every village with cases, for shading."""

    villages = fields.List(fields.Nested(VillageMeasureSchema))


class PanelsSchema(Schema):
    """The side panels as one document."""

    as_of = fields.String(metadata={"description": "ISO 8601 时间"})
    period = fields.Dict(metadata={"description": "各面板统计的期间：start、end（ISO 8601）、first_day、last_day、"
                                                  "kind、name、label、short_label、heading"})
    phase = fields.Dict(allow_none=True, metadata={"description": "当前专项行动阶段，不在行动期内为空"})
    counts = fields.Dict(metadata={"description": "办理进度计数"})
    top_categories = fields.List(fields.Dict(), metadata={"description": "案件最多的类别"})
    towns = fields.List(fields.Dict(), metadata={"description": "镇（街道）排名"})


class CaseCardSchema(Schema):
    """A case on the wall: no personal data."""

    id = fields.Integer()
    number = fields.String()
    category = fields.String(metadata={"description": "类别中文名"})
    town = fields.String()
    status = fields.String()
    state = fields.String(metadata={"description": STATE})
    due_at = fields.String(allow_none=True, metadata={"description": "ISO 8601 时间"})
    department = fields.String()
    above_level = fields.Boolean()
    inspection = fields.Boolean()
    leader = fields.Boolean()


class PatrolBucketSchema(Schema):
    """A band of days since the last patrol and its name."""

    code = fields.String()
    label = fields.String()
    min_days = fields.Integer(allow_none=True)
    max_days = fields.Integer(allow_none=True)


class SourcePointSchema(Schema):
    """A source on the wall with its days since the last patrol."""

    id = fields.Integer()
    lon = fields.Float()
    lat = fields.Float()
    name = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    key = fields.Boolean()
    town = fields.String()
    days = fields.Integer(allow_none=True, metadata={"description": "从未巡查为空"})
    bucket = fields.String()


class SourcesLayerSchema(Schema):
    """Active sources in the box (``truncated`` when there were more than the wall shows)."""

    as_of = fields.String(metadata={"description": "北京日期 YYYY-MM-DD"})
    truncated = fields.Boolean()
    buckets = fields.List(fields.Nested(PatrolBucketSchema))
    sources = fields.List(fields.Nested(SourcePointSchema))


class SourceCardSchema(Schema):
    """A source on the wall: name, kind, key flag, last patrol, grid, town, unit."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind_label = fields.String()
    key = fields.Boolean()
    last_patrol_at = fields.String(allow_none=True)
    last_patrol_on = fields.String(allow_none=True)
    days = fields.Integer(allow_none=True)
    bucket = fields.String()
    grid = fields.String()
    town = fields.String()
    department = fields.String()


class AlertFeatureSchema(Schema):
    """An early-warning alert as a ring."""

    id = fields.Integer()
    category = fields.String()
    category_label = fields.String()
    lon = fields.Float()
    lat = fields.Float()
    radius_m = fields.Float()
    count = fields.Integer()
    raised_at = fields.String()
    last_case_at = fields.String()
    dismissed = fields.Boolean()


class AlertsLayerSchema(Schema):
    """Active alerts."""

    alerts = fields.List(fields.Nested(AlertFeatureSchema))


class AlertCaseSchema(Schema):
    """A case of an alert: no personal data."""

    id = fields.Integer()
    number = fields.String()
    category_label = fields.String()
    status_label = fields.String()
    state = fields.String(metadata={"description": STATE})
    town = fields.String()


class AlertCasesSchema(Schema):
    """An alert and its cases in the caller's scope."""

    alert = fields.Nested(AlertFeatureSchema)
    cases = fields.List(fields.Nested(AlertCaseSchema))


class VillageScoreSchema(Schema):
    """One village's assessment item."""

    grid_id = fields.Integer()
    score = fields.Float()
    lost = fields.Float()
    zeroed = fields.Boolean()
    deductions = fields.Integer()


class VillageScoresSchema(Schema):
    """Every village's score for the period."""

    period = fields.Dict(metadata={"description": "考核期间：start、end（ISO 8601）、label、heading 等"})
    item_points = fields.Float()
    villages = fields.List(fields.Nested(VillageScoreSchema))


class LongUnresolvedPointSchema(Schema):
    """A long-unresolved case (久拖不解) on the map: no personal data."""

    id = fields.Integer()
    number = fields.String()
    lon = fields.Float()
    lat = fields.Float()
    town = fields.String()
    days_open = fields.Integer()
    days_overdue = fields.Integer(allow_none=True)
    reasons = fields.List(fields.String())


class LongUnresolvedLayerSchema(Schema):
    """The listed cases in a box (at most a few thousand; ``truncated`` says when there were more)."""

    truncated = fields.Boolean()
    cases = fields.List(fields.Nested(LongUnresolvedPointSchema))
