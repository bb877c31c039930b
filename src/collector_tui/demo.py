"""The demo database: a few hundred cases with months of history, built only through the services.

`build_demo` is deterministic: one `random.Random(seed)` draws every name, number, amount and
storyline, and a simulated clock walks from June to the demo day, so two runs give the same content
(row ids are uuid4 drawn inside the services and differ; nothing is patched globally). The demo
"today" is Friday 2026-11-20 and the demo clock stands at 09:30 in Shanghai (01:30 UTC, 20:30 the
evening before in New York): Chinese debtors may be called, US debtors too (until 21:00 their time),
UK debtors are asleep and wait in the held list. Follow-ups fall due around that instant, some
promises are due today or tomorrow, others were broken last week, so every queue has work in it.
The day before, alice agreed a settlement within her limit and asked for legal action on a case,
and bob's settlement above his limit waits for a supervisor (the supervisor's `v` and `o`).

Users (password `demo`): agents `alice` (Shanghai), `wang` (Shanghai, who works in Chinese: the
app opens in Chinese for him) and `bob` (New York), supervisor `sam`, admin `root`.
`sample_db/generate.py` writes `sample_db/demo.db` with this module; `collector-tui --demo` copies
that file, or builds a fresh one when the package is installed without the repository.
"""

from __future__ import annotations

import heapq
import random
import re
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from collector_tui import bootstrap, db
from collector_tui.config import Settings
from collector_tui.dates import add_months
from collector_tui.models import (
    CLOSED_STATUSES,
    Activity,
    Assignment,
    AuditEvent,
    Case,
    CaseCharge,
    Debtor,
    FollowUp,
    Hold,
    Invoice,
    InvoiceDispute,
    Payment,
    PaymentPlan,
    Phone,
    Promise,
    Reminder,
    Settlement,
    User,
)
from collector_tui.money import minor_digits
from collector_tui.phones import parse_phone
from collector_tui.services import accounts
from collector_tui.services.accounts import Actor
from collector_tui.services.assessment import assess as assessing
from collector_tui.services.assessment.assess import AssessmentInput
from collector_tui.services.casework import (
    activities,
    change,
    charges,
    disputes,
    followups,
    holds,
    notes,
    payments,
    reversals,
    settlements,
    sweep,
)
from collector_tui.services.casework.activities import ContactInput
from collector_tui.services.casework.cases import InvoiceInput, PlacementInput, add_placement
from collector_tui.services.casework.followups import FollowUpInput
from collector_tui.services.casework.promises import PlanInput, PromiseInput
from collector_tui.services.contacts import book
from collector_tui.services.errors import InvalidInput
from collector_tui.services.rules import scoring
from collector_tui.services.strategies import assign as strategies
from collector_tui.services.supervision import assignment, decisions

DEMO_NOW = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
DEMO_NOW_TEXT = "2026-11-20T09:30:00+08:00"  # the same instant, as `--demo` shows it
DEMO_PASSWORD = "demo"
DEMO_SEED = 20261120
DEMO_CASES = 300
HISTORY_START = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
# The last simulated action happens before this, so nothing in the file is "in the future".
_LAST_ACTION = DEMO_NOW - timedelta(minutes=20)

USERS: tuple[tuple[str, str, str, str], ...] = (
    ("root", "admin", "Root Administrator", "UTC"),
    ("sam", "supervisor", "Sam Lee", "Asia/Shanghai"),
    ("alice", "agent", "Alice Wang", "Asia/Shanghai"),
    ("bob", "agent", "Bob Miller", "America/New_York"),
    ("wang", "agent", "王伟", "Asia/Shanghai"),
)
# The interface's language of the users who do not work in English (`user set --lang`).
USER_LANGUAGES: dict[str, str] = {"wang": "zh_CN"}

# Every status (docs/decisions.md, data model) comes from at least one storyline; the first
# len(STORYLINES) cases take one each, so even a small build shows them all.
STORYLINES: dict[str, int] = {
    "new": 11,
    "active": 19,
    "callback": 8,
    "promised": 9,
    "kept": 6,
    "broken": 8,
    "partial": 3,
    "plan": 6,
    "plan_broken": 2,
    "dispute": 5,
    "legal": 3,
    "settled": 3,
    "paid": 5,
    "written_off": 3,
    "closed": 2,
    "cease": 2,
    "hardship": 2,
    "deceased": 1,
    "bankrupt": 1,
    "complaint": 1,
}

# --- names, places, numbers -----------------------------------------------------------------

CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
CN_GIVEN = (
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建华 志强 "
    "晓东 海燕 雪梅 国庆 子涵 浩然 欣怡 俊杰 婷婷 鹏 宇 佳 慧 文博"
).split()
CN_CITIES = (
    ("上海市", "浦东新区", "世纪大道", "021"),
    ("北京市", "朝阳区", "建国路", "010"),
    ("北京市", "海淀区", "中关村大街", "010"),
    ("上海市", "徐汇区", "漕溪北路", "021"),
    ("广州市", "天河区", "天河路", "020"),
    ("深圳市", "南山区", "科技园南路", "0755"),
    ("杭州市", "西湖区", "文三路", "0571"),
    ("成都市", "武侯区", "人民南路", "028"),
)
CN_FIRMS = "华信 恒达 鑫源 瑞丰 金桥 宏图 东方 新锐 嘉禾 永盛".split()
CN_TRADES = "贸易 科技 建材 物流 电子 餐饮管理 服装 五金".split()
CN_MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 "
    "180 181 182 185 186 187 188 189"
).split()

US_FIRST = (
    "James Mary Robert Patricia Michael Jennifer David Linda William Elizabeth Richard Barbara "
    "Joseph Susan Thomas Jessica Daniel Sarah Maria Kevin Keanu Leilani Dakota Aiyana"
).split()
US_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Wilson Anderson Thomas Taylor Moore Jackson Kahale Nakamura Olson Whitehorse"
).split()
# Area code -> (city, state, street, zip). 212 New York, 808 Hawaii, 605 South Dakota, 907
# Alaska: four zones, so the contact windows differ across the US book.
US_AREAS = {
    "212": ("New York", "NY", "West 34th Street", "10001"),
    "646": ("New York", "NY", "Lexington Avenue", "10017"),
    "808": ("Honolulu", "HI", "Kapiolani Boulevard", "96814"),
    "605": ("Sioux Falls", "SD", "Phillips Avenue", "57104"),
    "907": ("Anchorage", "AK", "Northern Lights Boulevard", "99503"),
    "312": ("Chicago", "IL", "North Michigan Avenue", "60611"),
    "415": ("San Francisco", "CA", "Market Street", "94103"),
}
US_FIRM_WORDS = "Atlas Summit Pioneer Keystone Harbor Redwood Lone Star Aloha Northern".split()
US_TRADES = "Supply Logistics Construction Foods Electric Auto Parts".split()

UK_FIRST = (
    "Oliver Amelia George Isla Harry Ava Jack Mia Charlie Olivia Noah Emily Arthur Sophie "
    "Freddie Grace Alfie Poppy"
).split()
UK_LAST = (
    "Smith Jones Taylor Brown Williams Wilson Davies Evans Thomas Roberts Walker Wright "
    "Hughes Patel Khan Murphy"
).split()
UK_PLACES = (
    ("London", "Baker Street", "NW1 6XE", "020 7946"),
    ("London", "Old Kent Road", "SE1 5AA", "020 7946"),
    ("Manchester", "Deansgate", "M3 4LQ", "0161 496"),
    ("Birmingham", "Broad Street", "B1 2HF", "0121 496"),
)
UK_FIRM_WORDS = "Brightline Thameside Pennine Albion Crown Harbourside".split()
UK_TRADES = "Wholesale Joinery Catering Haulage Print".split()

CLIENTS = {
    ("CN", "person"): (("华信银行信用卡中心", "HX"), ("长城消费金融", "GW")),
    ("CN", "company"): (("华东钢材供应有限公司", "HD"),),
    ("US", "person"): (("Harbor Bank", "HB"), ("Northwind Telecom", "NW")),
    ("US", "company"): (("Atlas Industrial Supply", "AIS"),),
    ("GB", "person"): (("Thames Credit", "TC"), ("Northwind Telecom", "NW")),
    ("GB", "company"): (("Brightline Wholesale", "BW"),),
}
# The clients whose placement files give each invoice's issue date (DSO counts from it); the
# others give due dates only, so the dashboard shows their book's days past due, said as such.
ISSUE_DATE_CLIENTS = frozenset({"华东钢材供应有限公司", "Atlas Industrial Supply"})
CURRENCY = {"CN": "CNY", "US": "USD", "GB": "GBP"}
LANGUAGE = {"CN": "zh", "US": "en", "GB": "en"}
PAY_METHODS = {
    "CN": ("bank transfer", "Alipay", "WeChat Pay"),
    "US": ("ACH", "card", "check"),
    "GB": ("BACS", "debit card", "Faster Payments"),
}

# --- what agents write ----------------------------------------------------------------------

NOTES_ZH = {
    "voicemail": ("已留言，请其回电。", "语音信箱，未透露欠款信息。"),
    "third_party": ("家属接听，称债务人外出打工，会转告回电。", "同事接听，未透露欠款事宜。"),
    "right_party": (
        "已向债务人说明逾期后果，对方态度良好，表示会尽快筹款。",
        "债务人称本月工资延迟发放，月底前可还一部分。",
        "债务人询问能否减免部分利息，已告知需申请审批。",
    ),
    "refused": ("债务人拒绝还款，情绪激动，称银行乱收费。", "对方表示没钱，挂断电话。"),
    "promise": (
        "债务人承诺发工资后还款，已确认金额和日期。",
        "协商后同意先还一部分，剩余下月再谈。",
    ),
    "plan": ("债务人要求分期还款，同意按月还款，已确认每期金额。",),
    "callback": ("债务人正在开会，约定稍后回电。", "对方要求晚些时候再联系，需先与家人商量。"),
    "dispute": ("债务人对利息计算有异议，要求提供还款明细。", "债务人称该笔款项已于三月结清。"),
    "hardship": ("客户失业中，暂时无力偿还，申请延期。", "债务人住院治疗，家庭困难。"),
    "company": ("公司财务称款项已走审批流程，预计下周付款。", "对方会计要求重新发送对账单。"),
}
NOTES_EN = {
    "voicemail": (
        "Left voicemail with callback number, no details of the debt.",
        "Mailbox full; will try another time of day.",
    ),
    "third_party": (
        "Spouse answered; will pass on the message. Did not disclose the debt.",
        "Flatmate answered, debtor at work until 6pm.",
    ),
    "right_party": (
        "Explained the arrears; debtor cooperative, looking for the money.",
        "Debtor says wages are late this month; can pay part by the 30th.",
        "Asked whether the late fees can be waived; told them to put it in writing.",
    ),
    "refused": (
        "Debtor refused to pay, says the service was never delivered.",
        "Hung up after hearing the balance.",
    ),
    "promise": (
        "Agreed a payment on payday; confirmed amount and date twice.",
        "Will pay part now and call back about the rest.",
    ),
    "plan": ("Asked for a payment plan; agreed monthly installments, confirmed by e-mail.",),
    "callback": (
        "Debtor driving, asked to call back later today.",
        "Needs to check with partner before agreeing anything; call back.",
    ),
    "dispute": (
        "Debtor disputes the interest charged; requested an itemised statement.",
        "Says the account was closed in March and the final bill paid.",
    ),
    "hardship": (
        "Lost job in September, on benefits. Asked for breathing space.",
        "Debtor in hospital; family struggling. Referred to hardship team.",
    ),
    "company": (
        "Accounts payable says invoices approved, payment run next Friday.",
        "AP asked for copies of the invoices; sent by e-mail.",
    ),
}


def _note(plan: _CasePlan, kind: str, rng: random.Random) -> str:
    chinese = plan.country == "CN" and rng.random() < 0.75
    table = NOTES_ZH if chinese else NOTES_EN
    return rng.choice(table[kind])


# --- planning ---------------------------------------------------------------------------------


@dataclass
class _CasePlan:
    key: str  # client_ref: stable across runs, the id is not
    storyline: str
    country: str
    currency: str
    kind: str
    placement: PlacementInput
    agent: str | None
    zone: ZoneInfo
    phones: tuple[str, ...]  # E.164 of the valid numbers, primary first
    balance: int
    placed_at: datetime


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    run: Callable[[_World, Session, datetime], None] = field(compare=False)


@dataclass
class _World:
    settings: Settings
    users: dict[str, Actor] = field(default_factory=dict)
    case_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    assignee: dict[str, str | None] = field(default_factory=dict)

    def agent_of(self, key: str) -> Actor:
        name = self.assignee.get(key)
        if name is None:
            raise RuntimeError(f"demo: case {key} has no agent to act on it")
        return self.users[name]


class _Planner:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.events: list[_Event] = []
        self._seq = 0
        self.used_numbers: set[str] = set()
        self.used_refs: set[str] = set()
        self._chinese_people = 0  # counts alice's Chinese private debtors: every third is wang's

    def at(self, instant: datetime, run: Callable[[_World, Session, datetime], None]) -> None:
        if instant >= _LAST_ACTION:
            raise RuntimeError(f"demo: an action planned at {instant} is past the demo clock")
        self._seq += 1
        self.events.append(_Event(instant, self._seq, run))

    # -- people ------------------------------------------------------------------------------

    def _unique_number(self, make: Callable[[], str], region: str) -> str:
        for _ in range(200):
            text = make()
            parsed = parse_phone(text, region)
            if parsed.valid and parsed.e164 not in self.used_numbers:
                self.used_numbers.add(parsed.e164 or "")
                return text
        raise RuntimeError("demo: ran out of phone numbers")

    def cn_debtor(self, kind: str) -> tuple[str, str, list[str]]:
        rng = self.rng
        city, district, street, area = rng.choice(CN_CITIES)
        address = f"{city}{district}{street}{rng.randint(1, 999)}号"
        if kind == "company":
            name = f"{city[:-1]}{rng.choice(CN_FIRMS)}{rng.choice(CN_TRADES)}有限公司"
        else:
            name = rng.choice(CN_SURNAMES) + rng.choice(CN_GIVEN)
        mobile = self._unique_number(
            lambda: (
                f"{rng.choice(CN_MOBILE_PREFIXES)} {rng.randint(0, 9999):04d} "
                f"{rng.randint(0, 9999):04d}"
            ),
            "CN",
        )
        phones = [mobile]
        if kind == "company" or rng.random() < 0.4:
            code = area
            phones.insert(
                0 if kind == "company" else 1,
                self._unique_number(
                    lambda: f"{code} {rng.randint(5000, 8999)} {rng.randint(0, 9999):04d}", "CN"
                ),
            )
        return name, address, phones

    def us_debtor(self, kind: str) -> tuple[str, str, list[str]]:
        rng = self.rng
        area = rng.choice(sorted(US_AREAS))
        city, state, street, zip_code = US_AREAS[area]
        address = f"{rng.randint(10, 9800)} {street}, {city}, {state} {zip_code}"
        if kind == "company":
            name = (
                f"{rng.choice(US_FIRM_WORDS)} {rng.choice(US_TRADES)} {rng.choice(('LLC', 'Inc.'))}"
            )
        else:
            name = f"{rng.choice(US_FIRST)} {rng.choice(US_LAST)}"
        # 555-0100..0199: the range set aside for fiction, valid in phonenumbers' data.
        phones = [self._unique_number(lambda: f"+1 {area} 555 01{rng.randint(0, 99):02d}", "US")]
        if rng.random() < 0.3:
            other = rng.choice(sorted(US_AREAS))
            phones.append(
                self._unique_number(lambda: f"({other}) 555-01{rng.randint(0, 99):02d}", "US")
            )
        return name, address, phones

    def uk_debtor(self, kind: str) -> tuple[str, str, list[str]]:
        rng = self.rng
        town, street, postcode, exchange = rng.choice(UK_PLACES)
        address = f"{rng.randint(1, 240)} {street}, {town} {postcode}"
        if kind == "company":
            name = f"{rng.choice(UK_FIRM_WORDS)} {rng.choice(UK_TRADES)} Ltd"
        else:
            name = f"{rng.choice(UK_FIRST)} {rng.choice(UK_LAST)}"
        # 020 7946 0xxx, 0161 496 0xxx, 0121 496 0xxx: Ofcom's ranges for drama.
        landline = self._unique_number(lambda: f"{exchange} 0{rng.randint(0, 999):03d}", "GB")
        mobile = self._unique_number(
            lambda: f"07700 {rng.randint(100, 899)}{rng.randint(0, 999):03d}", "GB"
        )
        phones = [mobile, landline] if kind == "person" else [landline, mobile]
        return name, address, phones

    # -- cases -------------------------------------------------------------------------------

    def client_ref(self, prefix: str) -> str:
        while True:
            ref = f"{prefix}-{self.rng.randint(100000, 999999)}"
            if ref not in self.used_refs:
                self.used_refs.add(ref)
                return ref

    def amount(self, country: str, kind: str) -> int:
        """Minor units, rounded the way balances look (no loose cents on most)."""
        low, high = {
            ("CN", "person"): (3_000, 80_000),
            ("CN", "company"): (50_000, 600_000),
            ("US", "person"): (400, 18_000),
            ("US", "company"): (5_000, 120_000),
            ("GB", "person"): (250, 12_000),
            ("GB", "company"): (3_000, 80_000),
        }[(country, kind)]
        major = self.rng.randint(low, high)
        cents = self.rng.choice((0, 0, 0, 50, self.rng.randint(1, 99)))
        return major * 100 + cents

    def case(self, storyline: str) -> _CasePlan:
        rng = self.rng
        country = rng.choices(("CN", "US", "GB"), weights=(50, 30, 20))[0]
        kind = "company" if rng.random() < 0.15 else "person"
        maker = {"CN": self.cn_debtor, "US": self.us_debtor, "GB": self.uk_debtor}[country]
        name, address, phone_texts = maker(kind)
        # A few imported files carry a dead number: kept on the file, shown as invalid.
        raw_phones = list(phone_texts)
        if rng.random() < 0.06:
            raw_phones.append({"CN": "1380013", "US": "212 555 01", "GB": "07700 900 12"}[country])
        client, prefix = rng.choice(CLIENTS[(country, kind)])
        currency = CURRENCY[country]
        if storyline == "new":
            placed_at = datetime(2026, 11, 10, tzinfo=UTC) + timedelta(
                days=rng.randint(0, 9), hours=rng.randint(0, 12)
            )
            if placed_at.date() >= DEMO_NOW.date():
                placed_at -= timedelta(days=1)
        else:
            placed_at = HISTORY_START + timedelta(
                days=rng.randint(0, 120), hours=rng.randint(0, 10)
            )
        placed_on = placed_at.date()
        overdue = rng.randint(30, 540 if storyline == "written_off" else 240)
        due_date = placed_on - timedelta(days=overdue)
        invoices: tuple[InvoiceInput, ...] = ()
        fees = interest = 0
        if kind == "company":
            count = rng.randint(2, 5)
            invoices = tuple(
                InvoiceInput(
                    number=f"INV-{rng.randint(10000, 99999)}-{index}",
                    due_date=due_date + timedelta(days=30 * index),
                    amount=self.amount(country, kind) // count // 100 * 100,
                    issue_date=(
                        due_date + timedelta(days=30 * index - 30)
                        if client in ISSUE_DATE_CLIENTS
                        else None
                    ),
                )
                for index in range(count)
            )
            principal = sum(invoice.amount for invoice in invoices)
        else:
            principal = self.amount(country, kind)
            fees = rng.choice((0, 0, 2_500, 3_900, 5_000)) if country != "CN" else 0
            interest = principal * rng.randint(0, 12) // 100
        balance = sum(i.amount for i in invoices) if invoices else principal + fees + interest
        agent: str | None
        if storyline == "new" and rng.random() < 0.4:
            agent = None  # waiting in the supervisors' unassigned list
        else:
            share = {"CN": 0.8, "US": 0.15, "GB": 0.5}[country]
            agent = "alice" if rng.random() < share else "bob"
            if agent == "alice" and country == "CN" and kind == "person":
                # No draw from the generator here: the rest of the demo keeps its content.
                self._chinese_people += 1
                if self._chinese_people % 3 == 0:
                    agent = "wang"
        parsed = [parse_phone(text, country) for text in raw_phones]
        valid = tuple(p.e164 for p in parsed if p.valid and p.e164)
        zone = ZoneInfo(parsed[0].time_zones[-1] if parsed[0].time_zones else "UTC")
        if country == "GB":
            zone = ZoneInfo("Europe/London")
        placement = PlacementInput(
            client=client,
            client_ref=self.client_ref(prefix),
            debtor_name=name,
            country=country,
            currency=currency,
            principal=principal,
            fees=fees,
            interest=interest,
            due_date=due_date,
            placed_date=placed_on,
            debtor_kind=kind,
            phones=tuple(raw_phones),
            address=address,
            language=LANGUAGE[country],
            risk_grade=rng.choice(("A", "B", "B", "C", "C", "C", "D", "D", "E", None)),
            invoices=invoices,
        )
        return _CasePlan(
            key=placement.client_ref,
            storyline=storyline,
            country=country,
            currency=currency,
            kind=kind,
            placement=placement,
            agent=agent,
            zone=zone,
            phones=valid,
            balance=balance,
            placed_at=placed_at,
        )

    # -- time --------------------------------------------------------------------------------

    def local(self, plan: _CasePlan, day: date, start: int = 9, end: int = 19) -> datetime:
        """An instant during the debtor's working day (their zone), in UTC."""
        minute = self.rng.randint(start * 60, end * 60 - 1)
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=plan.zone)
        instant = local.astimezone(UTC)
        while instant >= _LAST_ACTION:
            instant -= timedelta(days=1)
        return instant

    def days_after(self, plan: _CasePlan, instant: datetime, low: int, high: int) -> datetime:
        return self.local(plan, (instant + timedelta(days=self.rng.randint(low, high))).date())


# --- actions (closures run later, in time order, each inside the day's transaction) -------------


def _place(plan: _CasePlan) -> Callable[[_World, Session, datetime], None]:
    def run(world: _World, session: Session, now: datetime) -> None:
        case = add_placement(
            session=session,
            now=now,
            placement=plan.placement,
            settings=world.settings,
            actor=world.users["sam"],
        )
        # Placed by the strategies in force, as the placement import places its cases.
        strategies.assign_new_cases(
            session,
            now=now,
            settings=world.settings,
            case_ids=[case.id],
            user_id=world.users["sam"].user_id,
        )
        world.case_ids[plan.key] = case.id
        world.assignee[plan.key] = None
        if plan.agent is not None:
            _assign_now(world, session, now, [plan.key], plan.agent, "initial allocation")

    return run


# The demo's strategies (services/strategies): companies' clients, US consumers (whose sequence
# starts with the validation notice) and everyone else, whose strategy tries a challenger on 30%
# of its cases: cases ahead in the queue and a wider settlement limit.
DEMO_STRATEGIES = """
title = "Demo strategies"

[strategies.consumer]
title = "Consumers"
queue_weight = 100
sequence = "consumer"
settlement_limit_pct = 10
escalations = [{ after_days = 120, p_below = 0.15, to = "legal" }]

[strategies.consumer.challenger]
share = 30
queue_weight = 150
settlement_limit_pct = 20

[strategies.us_consumer]
title = "US consumers"
queue_weight = 100
sequence = "us_consumer"
settlement_limit_pct = 10

[strategies.business]
title = "Companies' invoices"
queue_weight = 120
sequence = "business"
settlement_limit_pct = 15

[[rules]]
name = "company clients"
strategy = "business"
priority = 10
client = ["Atlas Industrial Supply", "Brightline Wholesale", "华东钢材供应有限公司"]

[[rules]]
name = "us"
strategy = "us_consumer"
priority = 5
country = ["US"]

[[rules]]
name = "default"
strategy = "consumer"
"""


def _apply_strategies(world: _World, session: Session, now: datetime) -> None:
    strategies.apply_strategy_text(
        session=session,
        now=now,
        actor=world.users["sam"],
        settings=world.settings,
        text=DEMO_STRATEGIES,
        source="demo-strategies.toml",
    )


def _assign_now(
    world: _World, session: Session, now: datetime, keys: list[str], to: str | None, reason: str
) -> None:
    assignment.assign_cases(
        session=session,
        now=now,
        actor=world.users["sam"],
        case_ids=[world.case_ids[key] for key in keys],
        to_user_id=world.users[to].user_id if to else None,
        settings=world.settings,
        reason=reason,
    )
    for key in keys:
        world.assignee[key] = to


def _assign(keys: list[str], to: str | None, reason: str) -> Callable[..., None]:
    def run(world: _World, session: Session, now: datetime) -> None:
        _assign_now(world, session, now, keys, to, reason)

    return run


def _contact(key: str, contact: ContactInput) -> Callable[..., None]:
    def run(world: _World, session: Session, now: datetime) -> None:
        activities.log_contact(
            session=session,
            now=now,
            actor=world.agent_of(key),
            case_id=world.case_ids[key],
            contact=contact,
            settings=world.settings,
        )

    return run


def _contact_with_follow_up(
    key: str, contact: ContactInput, due_at: datetime, reason: str
) -> Callable[..., None]:
    def run(world: _World, session: Session, now: datetime) -> None:
        activities.log_contact(
            session=session,
            now=now,
            actor=world.agent_of(key),
            case_id=world.case_ids[key],
            contact=ContactInput(
                **{**contact.__dict__, "follow_up": FollowUpInput(due_at=due_at, reason=reason)}
            ),
            settings=world.settings,
        )

    return run


def _payment(
    key: str, amount: int, method: str, reference: str
) -> Callable[[_World, Session, datetime], None]:
    def run(world: _World, session: Session, now: datetime) -> None:
        # Payments arrive from the bank feed, which the supervisor posts.
        payments.post_payment(
            session=session,
            now=now,
            actor=world.users["sam"],
            case_id=world.case_ids[key],
            amount=amount,
            received_on=now.date(),
            settings=world.settings,
            method=method,
            reference=reference,
        )

    return run


def _note_by(key: str, who: str | None, text: str) -> Callable[..., None]:
    def run(world: _World, session: Session, now: datetime) -> None:
        actor = world.users[who] if who else world.agent_of(key)
        notes.add_note(
            session=session,
            now=now,
            actor=actor,
            case_id=world.case_ids[key],
            text=text,
            settings=world.settings,
        )

    return run


def _hold(key: str, who: str | None, kind: str, reason: str) -> Callable[..., None]:
    def run(world: _World, session: Session, now: datetime) -> None:
        holds.place_hold(
            session=session,
            now=now,
            actor=world.users[who] if who else world.agent_of(key),
            case_id=world.case_ids[key],
            kind=kind,
            settings=world.settings,
            reason=reason,
        )

    return run


def _set_status(key: str, status: str) -> Callable[..., None]:
    """A supervisor's decision (legal, settled, written off, closed): no service offers these
    moves yet, so the demo makes them with the casework helpers, audited like any change."""

    def run(world: _World, session: Session, now: datetime) -> None:
        actor = world.users["sam"]
        case = change.case_for_change(session=session, case_id=world.case_ids[key], actor=actor)
        before = change.case_state(case)
        with change.changing(session):
            case.status = status
            if status in CLOSED_STATUSES:
                followups.close_open_follow_ups(
                    session=session, now=now, case_id=case.id, user_id=actor.user_id, why=status
                )
            change.finish_case_change(
                session=session,
                now=now,
                settings=world.settings,
                case=case,
                before=before,
                user_id=actor.user_id,
                action="status",
            )

    return run


def _sweep(world: _World, session: Session, now: datetime) -> None:
    sweep.sweep(session=session, now=now, settings=world.settings)


# --- storylines ---------------------------------------------------------------------------------


class _Story:
    """Writes one case's history as timed events; `balance` follows the payments it plans."""

    def __init__(self, planner: _Planner, plan: _CasePlan) -> None:
        self.p = planner
        self.rng = planner.rng
        self.plan = plan
        self.balance = plan.balance
        self.last = plan.placed_at
        self.refs = 0

    def phone(self) -> str | None:
        return self.plan.phones[0] if self.plan.phones else None

    def attempt(
        self,
        disposition: str,
        *,
        low: int = 1,
        high: int = 5,
        note_kind: str | None = None,
        at: datetime | None = None,
        **extra: Any,
    ) -> datetime:
        when = at or self.p.days_after(self.plan, self.last, low, high)
        if when <= self.last:
            when = self.last + timedelta(minutes=self.rng.randint(5, 50))
        connected = disposition not in ("no_answer", "busy", "voicemail", "disconnected")
        duration = self.rng.randint(60, 900) if connected else self.rng.randint(0, 40)
        note = _note(self.plan, note_kind, self.rng) if note_kind else None
        contact = ContactInput(
            disposition=disposition,
            phone_e164=extra.pop("phone", self.phone()),
            note=note,
            duration_s=duration,
            **extra,
        )
        self.p.at(when, _contact(self.plan.key, contact))
        self.last = when
        return when

    def prelude(self, attempts: tuple[int, int] = (0, 3)) -> None:
        for _ in range(self.rng.randint(*attempts)):
            disposition = self.rng.choice(("no_answer", "no_answer", "busy", "voicemail"))
            self.attempt(disposition, note_kind="voicemail" if disposition == "voicemail" else None)
        if self.rng.random() < 0.25:
            self.attempt("third_party", note_kind="third_party")

    def pay(self, amount: int, when: datetime) -> None:
        amount = min(amount, self.balance)
        if amount <= 0:
            return
        self.refs += 1
        method = self.rng.choice(PAY_METHODS[self.plan.country])
        reference = f"PAY-{self.plan.key}-{self.refs}"
        self.p.at(when, _payment(self.plan.key, amount, method, reference))
        self.balance -= amount
        self.last = max(self.last, when)

    def part(self, low: int, high: int) -> int:
        """A round share of the balance (percent), in the currency's whole units."""
        share = self.balance * self.rng.randint(low, high) // 100
        rounded = share // 10_000 * 10_000 or share // 100 * 100
        return max(100, min(rounded, self.balance))

    def promise(self, on: datetime, due: date, amount: int, *, inbound: bool = False) -> None:
        contact = ContactInput(
            disposition="promise",
            direction="inbound" if inbound else "outbound",
            phone_e164=self.phone(),
            note=_note(
                self.plan, "company" if self.plan.kind == "company" else "promise", self.rng
            ),
            duration_s=self.rng.randint(180, 900),
            promise=PromiseInput(amount=amount, due_date=due),
        )
        self.p.at(on, _contact(self.plan.key, contact))
        self.last = on

    def day(self, month: int, first: int, last: int) -> date:
        return date(2026, month, self.rng.randint(first, last))

    def after(self, day: date) -> datetime:
        """A working-hours instant on `day`, and never before the story's last event."""
        instant = self.p.local(self.plan, day)
        if instant <= self.last:
            instant = self.p.days_after(self.plan, self.last, 1, 2)
        return instant

    # -- the storylines --------------------------------------------------------------------------

    def run(self) -> None:
        self.p.at(self.plan.placed_at, _place(self.plan))
        getattr(self, f"story_{self.plan.storyline}")()

    def story_new(self) -> None:
        pass

    def story_active(self) -> None:
        self.prelude((1, 3))
        if self.rng.random() < 0.5:
            self.attempt("right_party", note_kind="right_party", low=2, high=8)
        elif self.rng.random() < 0.5:
            self.attempt("refused", note_kind="refused", low=2, high=8)
        if self.rng.random() < 0.3 and len(self.plan.phones) > 1:
            self.attempt("wrong_number", phone=self.plan.phones[-1], low=1, high=4)
        # Recent work: the last attempt lands in the last fortnight (keeps scores lively).
        recent = self.after(self.day(11, 6, 18))
        self.attempt(self.rng.choice(("no_answer", "voicemail", "busy")), at=recent)

    def story_callback(self) -> None:
        self.prelude((1, 2))
        # Due around the demo instant: some are waiting right now, others later today.
        due = DEMO_NOW + timedelta(minutes=self.rng.choice((-1200, -300, -90, -40, -15, 120, 400)))
        when = self.after(due.date() - timedelta(days=self.rng.randint(1, 3)))
        if when >= due - timedelta(hours=1):
            when = due - timedelta(hours=self.rng.randint(20, 40))
        contact = ContactInput(
            disposition="callback",
            phone_e164=self.phone(),
            note=_note(self.plan, "callback", self.rng),
            duration_s=self.rng.randint(30, 200),
        )
        reason = "call back as agreed" if self.plan.country != "CN" else "约定回电"
        self.p.at(when, _contact_with_follow_up(self.plan.key, contact, due, reason))
        self.last = when

    def story_promised(self) -> None:
        self.prelude((1, 2))
        on = self.after(self.day(11, 10, 18))
        # Some fall due today or tomorrow (promise reminders), others in the coming weeks.
        offset = self.rng.choice((0, 1, 1, 3, 7, 12, 20))
        due = DEMO_NOW.date() + timedelta(days=offset)
        if due <= on.date():
            due = on.date() + timedelta(days=2)
        self.promise(on, due, self.part(20, 100), inbound=self.rng.random() < 0.2)

    def story_kept(self) -> None:
        self.prelude((1, 2))
        on = self.after(self.day(self.rng.choice((8, 9, 10)), 1, 25))
        due = on.date() + timedelta(days=self.rng.randint(5, 14))
        amount = self.part(15, 60)
        self.promise(on, due, amount)
        paid_at = self.p.local(self.plan, due - timedelta(days=self.rng.randint(0, 2)))
        self.pay(amount, max(paid_at, on + timedelta(hours=2)))
        if self.rng.random() < 0.5:
            self.attempt("right_party", note_kind="right_party", low=10, high=20)

    def story_broken(self) -> None:
        self.prelude((1, 2))
        # Promised in the last weeks of October or early November, due a few days later.
        on = self.after(date(2026, 10, 20) + timedelta(days=self.rng.randint(0, 19)))
        due = on.date() + timedelta(days=self.rng.randint(3, 7))
        self.promise(on, due, self.part(20, 70))
        self.last = datetime.combine(due + timedelta(days=3), time(1, 0), tzinfo=UTC)
        if self.rng.random() < 0.4:
            # Followed up after the break: back among the workable cases, score dented.
            self.attempt("no_answer", low=0, high=2)

    def story_partial(self) -> None:
        self.prelude((1, 2))
        on = self.after(self.day(10, 1, 25))
        due = on.date() + timedelta(days=self.rng.randint(4, 10))
        amount = self.part(30, 80)
        self.promise(on, due, amount)
        self.pay(amount * self.rng.randint(30, 70) // 100, self.p.local(self.plan, due))

    def _plan_contact(self, on: datetime, count: int, first_due: date) -> list[PromiseInput]:
        total = self.part(60, 100)
        each = total // count // 100 * 100
        installments = [
            PromiseInput(amount=each, due_date=add_months(first_due, index))
            for index in range(count)
        ]
        contact = ContactInput(
            disposition="plan",
            phone_e164=self.phone(),
            note=_note(self.plan, "plan", self.rng),
            duration_s=self.rng.randint(300, 1200),
            plan=PlanInput(installments=tuple(installments)),
        )
        self.p.at(on, _contact(self.plan.key, contact))
        self.last = on
        return installments

    def story_plan(self) -> None:
        self.prelude((1, 2))
        on = self.after(self.day(self.rng.choice((7, 8, 9)), 1, 25))
        installments = self._plan_contact(
            on, self.rng.randint(4, 8), on.date() + timedelta(days=self.rng.randint(5, 12))
        )
        for installment in installments:
            paid = self.p.local(self.plan, installment.due_date - timedelta(days=1))
            if paid < _LAST_ACTION - timedelta(days=1):
                self.pay(installment.amount, max(paid, self.last + timedelta(hours=1)))

    def story_plan_broken(self) -> None:
        self.prelude((1, 2))
        on = self.after(self.day(8, 1, 20))
        installments = self._plan_contact(on, 4, on.date() + timedelta(days=7))
        first = installments[0]
        self.pay(first.amount, self.p.local(self.plan, first.due_date))
        # The second installment is missed: the sweep breaks the plan.
        self.last = datetime.combine(installments[1].due_date + timedelta(days=4), time(2, 0), UTC)
        self.attempt("no_answer", low=1, high=5)
        self.attempt("refused", note_kind="refused", low=1, high=5)

    def story_dispute(self) -> None:
        self.prelude((0, 2))
        self.attempt("dispute", note_kind="dispute", low=2, high=30)

    def story_legal(self) -> None:
        self.prelude((2, 3))
        self.attempt("refused", note_kind="refused", low=3, high=10)
        when = self.p.days_after(self.plan, self.last, 10, 20)
        text = "Referred to panel solicitors: no response to the letter before action."
        self.p.at(when, _hold(self.plan.key, "sam", "legal", text))
        self.p.at(when + timedelta(minutes=1), _set_status(self.plan.key, "legal"))
        self.p.at(when + timedelta(minutes=2), _note_by(self.plan.key, "sam", text))
        self.last = when + timedelta(minutes=2)

    def story_settled(self) -> None:
        self.prelude((1, 2))
        self.attempt("right_party", note_kind="right_party", low=2, high=10)
        share = self.rng.choice((60, 65, 70, 75, 80))
        amount = self.balance * share // 100 // 100 * 100
        paid_at = self.p.days_after(self.plan, self.last, 3, 12)
        self.pay(amount, paid_at)
        text = (
            f"Settlement in full and final: {share}% accepted by the client, remainder waived."
            if self.plan.country != "CN"
            else f"客户同意按{share}%一次性结清，余款减免。"
        )
        self.p.at(paid_at + timedelta(hours=1), _set_status(self.plan.key, "settled"))
        self.p.at(paid_at + timedelta(hours=1, minutes=1), _note_by(self.plan.key, "sam", text))
        self.last = paid_at + timedelta(hours=1, minutes=1)

    def story_paid(self) -> None:
        self.prelude((1, 2))
        if self.rng.random() < 0.5:
            on = self.p.days_after(self.plan, self.last, 2, 10)
            due = on.date() + timedelta(days=self.rng.randint(3, 10))
            self.promise(on, due, self.balance)
            self.pay(self.balance, self.p.local(self.plan, due - timedelta(days=1)))
        else:
            # "I already paid": the follow-up checks the bank feed, which then shows the money.
            said = self.attempt("paid", note_kind="right_party", low=2, high=10)
            self.pay(self.balance, said + timedelta(hours=20))

    def story_written_off(self) -> None:
        self.attempt("disconnected", low=2, high=6)
        if len(self.plan.phones) > 1:
            self.attempt("wrong_number", phone=self.plan.phones[-1], low=1, high=6)
        self.attempt("no_answer", low=3, high=9)
        when = self.p.days_after(self.plan, self.last, 15, 30)
        self.p.at(when, _set_status(self.plan.key, "written_off"))
        self.p.at(
            when + timedelta(minutes=1),
            _note_by(
                self.plan.key,
                "sam",
                "No trace: numbers dead, mail returned. Written off on the client's instruction.",
            ),
        )
        self.last = when + timedelta(minutes=1)

    def story_closed(self) -> None:
        self.prelude((1, 2))
        when = self.p.days_after(self.plan, self.last, 5, 20)
        self.p.at(when, _set_status(self.plan.key, "closed"))
        self.p.at(
            when + timedelta(minutes=1),
            _note_by(self.plan.key, "sam", "Client recalled the account (sold to another agency)."),
        )
        self.last = when + timedelta(minutes=1)

    def story_cease(self) -> None:
        self.prelude((1, 3))
        self.attempt("cease", low=2, high=8)
        self.p.at(
            self.last + timedelta(minutes=5),
            _note_by(self.plan.key, None, "Debtor asked in writing that we stop calling."),
        )
        self.last += timedelta(minutes=5)

    def story_hardship(self) -> None:
        self.prelude((1, 2))
        self.attempt("hardship", note_kind="hardship", low=2, high=12)

    def story_deceased(self) -> None:
        self.prelude((1, 2))
        self.attempt("deceased", low=2, high=12)

    def story_bankrupt(self) -> None:
        self.prelude((1, 2))
        self.attempt("bankrupt", low=2, high=12)

    def story_complaint(self) -> None:
        self.prelude((1, 2))
        self.attempt("right_party", note_kind="refused", low=2, high=8)
        when = self.p.days_after(self.plan, self.last, 1, 3)
        self.p.at(
            when,
            _hold(
                self.plan.key, None, "complaint", "Complained about call frequency; under review."
            ),
        )
        self.last = when


# --- building ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    cases: int
    statuses: dict[str, int]
    countries: dict[str, int]


def build_demo(path: Path, *, cases: int = DEMO_CASES, seed: int = DEMO_SEED) -> DemoSummary:
    """Write a fresh demo database at `path` (replacing any file there)."""
    target = Path(path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    rng = random.Random(seed)
    planner = _Planner(rng)
    names = list(STORYLINES)
    plans: list[_CasePlan] = []
    for number in range(cases):
        storyline = (
            names[number]
            if number < len(names)
            else rng.choices(names, weights=list(STORYLINES.values()))[0]
        )
        plan = planner.case(storyline)
        plans.append(plan)
        _Story(planner, plan).run()
    _plan_moves(planner, plans)
    _plan_requests(planner, plans)
    _plan_disputes(planner, plans)
    _plan_contact_data(planner, plans)
    _plan_assessments(planner, plans, seed)
    # The strategies are in force before the first placement, so every case has months of
    # outcomes under its strategy and group (`report strategies`).
    planner.at(HISTORY_START - timedelta(days=1), _apply_strategies)
    day = HISTORY_START
    while day < DEMO_NOW:
        planner.at(day + timedelta(minutes=5), _sweep)
        day += timedelta(days=1)

    settings = Settings()
    store = bootstrap.open_store(target)
    try:
        db.upgrade(store)
        world = _World(settings=settings)
        with store.write() as session:
            _create_users(world, session)
        _run_events(store, world, planner.events)
        _send_reminders(store, settings)
        with store.write() as session:
            # The instant the demo opens at: judge promises, and bring every cached queue place
            # (days past due, time since the last attempt) up to that moment.
            sweep.sweep(session=session, now=DEMO_NOW, settings=settings)
            for case in session.exec(select(Case).order_by(col(Case.client_ref))):
                scoring.refresh_case(session=session, case=case, now=DEMO_NOW, settings=settings)
        summary = _summary(store)
    finally:
        store.dispose()
    _compact(target)
    return summary


# Reminder send runs in the demo's last days, at 11:00 in Shanghai: the shipped sequences
# (services/reminders/reminder_sequences.toml) send first notices, reminders and broken-promise
# messages, one a debtor a day; the last instant only queues what is due, for the outbox's "due".
REMINDER_RUNS = (DEMO_NOW - timedelta(days=2, hours=-1, minutes=30), DEMO_NOW - timedelta(days=1))


def _send_reminders(store: db.Store, settings: Settings) -> None:
    """Send runs through the real channels into a scratch folder (its files are not kept: the
    timeline's activities keep the text, a letter's path and hash)."""
    import shutil
    import tempfile

    from collector_tui.services.reminders import outbox
    from collector_tui.services.reminders.couriers import couriers_from_settings

    with store.read() as session:
        sam = accounts.get_actor(session=session, username="sam")
    folder = Path(tempfile.mkdtemp(prefix="collector-demo-outbox-"))
    try:
        for at in REMINDER_RUNS:
            outbox.send_due(
                store=store,
                now=at,
                settings=settings,
                actor=sam,
                couriers=couriers_from_settings(settings, now=at, outbox_dir=folder),
            )
        with store.write() as session:
            outbox.queue_due(session=session, now=DEMO_NOW, settings=settings, actor=sam)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _create_users(world: _World, session: Session) -> None:
    created = HISTORY_START - timedelta(days=7)
    root: Actor | None = None
    for username, role, display, zone in USERS:
        actor = accounts.create_user(
            session=session,
            now=created,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            display_name=display,
            time_zone=zone,
            by=root,
            language=USER_LANGUAGES.get(username),
        )
        root = root or actor
        world.users[username] = actor


def _plan_moves(planner: _Planner, plans: list[_CasePlan]) -> None:
    """Mid-October alice goes on a week's leave: sam moves some of her open cases to bob, and
    returns two to the pool. Later events use whoever holds the case then."""
    moved_on = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
    movable = [
        p
        for p in plans
        if p.agent == "alice"
        and p.placed_at < moved_on - timedelta(days=1)
        and p.storyline in ("active", "callback", "promised", "broken", "plan")
    ]
    chosen = planner.rng.sample(movable, min(12, len(movable)))
    if chosen:
        planner.at(
            moved_on,
            _assign([p.key for p in chosen], "bob", "workload balance: alice on leave next week"),
        )
    # New placements (no history yet) go back to the pool for the supervisor to hand out.
    fresh = [p for p in plans if p.storyline == "new" and p.agent == "alice"]
    pooled = planner.rng.sample(fresh, min(2, len(fresh)))
    latest = max((p.placed_at for p in pooled), default=None)
    if latest is not None and latest + timedelta(hours=2) < _LAST_ACTION:
        planner.at(
            latest + timedelta(hours=2),
            _assign([p.key for p in pooled], None, "back to the pool: rota change"),
        )


# The last days before the demo: agents ask the supervisors for things, so the supervisor's
# settlement (v) and routed (o) views have work. Fixed instants and amounts, no random draws (the
# rest of the demo stays as it was).
_LIMITS_SET = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
_LIMITS = {"alice": 15, "bob": 10, "wang": 10}
# (who, instant, what, percent of the balance paid or None, pay-by date, note)
_REQUESTS: tuple[tuple[str, datetime, str, int | None, date | None, str], ...] = (
    ("alice", datetime(2026, 11, 19, 6, 10, tzinfo=UTC), "settle", 90, date(2026, 11, 27),
     "Pays 90% from a family loan, full and final."),
    ("bob", datetime(2026, 11, 19, 15, 20, tzinfo=UTC), "settle", 65, date(2026, 12, 4),
     "Offers 65% in one payment if the rest is written off."),
    ("alice", datetime(2026, 11, 19, 7, 40, tzinfo=UTC), "legal", None, None,
     "Refuses to pay although employed; owns a flat in their name."),
)  # fmt: skip


def _plan_requests(planner: _Planner, plans: list[_CasePlan]) -> None:
    """Settlement limits for the agents, then the requests of _REQUESTS."""
    planner.at(_LIMITS_SET, _set_limits)
    candidates = [p.key for p in plans if p.storyline == "active"]
    taken: set[str] = set()
    for who, at, what, pct, due, note in _REQUESTS:
        planner.at(at, _request(candidates, taken, who, what, pct, due, note))


# Invoice disputes on B2B cases and a bounced payment, at fixed instants without random draws
# (the rest of the demo stays as it was): one part of an invoice disputed and left past its
# resolve-by date (in its owner's queue), one whole invoice disputed and partly upheld by sam.
# (who opens, instant, category, percent of the invoice's open amount or None, resolve-by,
#  reason, resolution instant or None, percent of the disputed amount credited)
_DISPUTES: tuple[tuple[datetime, str, int | None, date, str, datetime | None, int], ...] = (
    (datetime(2026, 11, 5, 3, 0, tzinfo=UTC), "quality", 30, date(2026, 11, 15),
     "Says a third of the pallets arrived damaged; photos promised.", None, 0),
    (datetime(2026, 11, 10, 3, 0, tzinfo=UTC), "goods_not_received", None, date(2026, 12, 10),
     "Claims the last delivery never reached their warehouse.",
     datetime(2026, 11, 18, 2, 0, tzinfo=UTC), 40),
)  # fmt: skip
_BOUNCE_AT = datetime(2026, 11, 18, 2, 30, tzinfo=UTC)
# sam charges the court fee of the legal action to a case in legal (costs after placement).
_CHARGE_AT = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)


def _plan_disputes(planner: _Planner, plans: list[_CasePlan]) -> None:
    candidates = [
        p.key
        for p in plans
        if p.kind == "company" and p.agent is not None and p.storyline in ("active", "callback")
    ]
    taken: list[str] = []
    for opened_at, category, pct, by, reason, resolved_at, credit in _DISPUTES:
        planner.at(opened_at, _dispute(candidates, taken, category, pct, by, reason))
        if resolved_at is not None:
            planner.at(resolved_at, _resolve_last(taken, credit))
    planner.at(_BOUNCE_AT, _bounce)
    planner.at(_CHARGE_AT, _charge_costs)


DEMO_ASSESSMENTS = 24


def _plan_assessments(planner: _Planner, plans: list[_CasePlan], seed: int) -> None:
    """Assessments of some debtors a few days after placement: a person's monthly figures (a
    quarter of them left with nothing), a company's standing; some set a grade. Drawn from a
    random source of their own, so the rest of the demo is what it was without them."""
    rng = random.Random(seed + 11)
    candidates = [
        p
        for p in plans
        if p.agent is not None
        and p.storyline in ("active", "callback", "promised", "broken", "plan")
    ]
    for plan in candidates[:DEMO_ASSESSMENTS]:
        at = plan.placed_at + timedelta(days=rng.randint(2, 20), hours=rng.randint(1, 6))
        if at >= _LAST_ACTION:
            continue
        if plan.kind == "company":
            given = AssessmentInput(
                revenue_trend=rng.choice(("growing", "stable", "falling", "falling")),
                other_creditors=rng.randint(0, 6),
                trading_status=rng.choice(("trading", "trading", "reduced", "dormant")),
                judgement=rng.choice(
                    ("pays slowly but pays", "cash-flow squeeze until the season", "will pay part")
                ),
            )
        else:
            unit = 10 ** minor_digits(plan.currency)
            income = rng.randint(30, 120) * 100 * unit
            housing = income * rng.randint(20, 45) // 100
            family = income * rng.randint(10, 40) // 100
            other = income * rng.randint(0, 35) // 100
            given = AssessmentInput(
                currency=plan.currency,
                income=income,
                housing=housing,
                family=family,
                other_debts=other,
            )
        if rng.random() < 0.4:
            grade = rng.choice(("B", "C", "D"))
            given = replace(
                given, grade=grade, reason="figures checked with the debtor on the call"
            )
        planner.at(at, _assess(plan.key, given))


def _assess(key: str, given: AssessmentInput) -> Callable[..., None]:
    def run(world: _World, session: Session, now: datetime) -> None:
        if world.assignee.get(key) is None:
            return
        case = session.get(Case, world.case_ids[key])
        if case is None or case.status in CLOSED_STATUSES:
            return
        assessing.assess(
            session=session,
            now=now,
            actor=world.agent_of(key),
            settings=world.settings,
            case_id=case.id,
            assessment=given,
        )

    return run


def _dispute(
    candidates: list[str], taken: list[str], category: str, pct: int | None, by: date, reason: str
) -> Callable[..., None]:
    """The case's agent disputes the oldest open invoice of the first B2B case not yet taken."""

    def run(world: _World, session: Session, now: datetime) -> None:
        for key in candidates:
            if key in taken or world.assignee.get(key) is None:
                continue
            case = session.get(Case, world.case_ids[key])
            invoice = session.exec(
                select(Invoice)
                .where(Invoice.case_id == world.case_ids[key], Invoice.open_amount > 0)
                .order_by(col(Invoice.due_date), col(Invoice.number))
            ).first()
            if case is None or case.status not in ("active", "new") or invoice is None:
                continue
            amount = None if pct is None else invoice.open_amount * pct // 100 // 100 * 100
            disputes.open_dispute(
                session=session,
                now=now,
                actor=world.agent_of(key),
                settings=world.settings,
                case_id=case.id,
                invoice=invoice.number,
                category=category,
                reason=reason,
                amount=amount or None,
                resolve_by=by,
            )
            taken.append(key)
            return

    return run


def _resolve_last(taken: list[str], credit_pct: int) -> Callable[..., None]:
    """sam partly upholds the open dispute of the case disputed last."""

    def run(world: _World, session: Session, now: datetime) -> None:
        if not taken:
            return
        dispute = session.exec(
            select(InvoiceDispute).where(
                InvoiceDispute.case_id == world.case_ids[taken[-1]],
                InvoiceDispute.status == "open",
            )
        ).first()
        if dispute is None:
            return
        disputes.resolve_dispute(
            session=session,
            now=now,
            actor=world.users["sam"],
            settings=world.settings,
            dispute_id=dispute.id,
            outcome="partly",
            amount=max(1, dispute.amount * credit_pct // 100),
            reason="Carrier confirms part of the delivery was lost; credit note for that part.",
        )

    return run


def _bounce(world: _World, session: Session, now: datetime) -> None:
    """The bank returns the latest payment on an open case: sam reverses it."""
    latest = session.exec(
        select(Payment)
        .join(Case, col(Case.id) == col(Payment.case_id))
        .where(
            col(Payment.voids_id).is_(None),
            col(Payment.amount) > 0,
            col(Case.status).in_(("active", "promised", "plan", "paid")),
        )
        .order_by(col(Payment.received_on).desc(), col(Payment.reference))
    ).first()
    if latest is not None:
        reversals.reverse_payment(
            session=session,
            now=now,
            actor=world.users["sam"],
            settings=world.settings,
            payment_id=latest.id,
            reason="bounced",
        )


def _charge_costs(world: _World, session: Session, now: datetime) -> None:
    """sam adds the court fee to the first case in legal (else the first open B2B case): legal
    costs, 5 % of its balance, on the case itself."""
    found = session.exec(
        select(Case)
        .where(col(Case.id).in_(list(world.case_ids.values())), Case.status == "legal")
        .order_by(col(Case.client), col(Case.client_ref))
    ).first()
    if found is None:
        found = session.exec(
            select(Case)
            .join(Invoice, col(Invoice.case_id) == col(Case.id))
            .where(col(Case.status).in_(("active", "new")))
            .order_by(col(Case.client), col(Case.client_ref))
        ).first()
    if found is None or found.balance <= 0:
        return
    charges.add_charge(
        session=session,
        now=now,
        actor=world.users["sam"],
        settings=world.settings,
        case_id=found.id,
        amount=max(1, found.balance // 20),
        component="costs",
        reason="Court filing fee for the claim (legal action approved).",
    )


def _set_limits(world: _World, session: Session, now: datetime) -> None:
    for username, pct in _LIMITS.items():
        settlements.set_settlement_limit(
            session=session,
            now=now,
            actor=world.users["sam"],
            user_id=world.users[username].user_id,
            limit_pct=pct,
        )


def _request(
    candidates: list[str],
    taken: set[str],
    who: str,
    what: str,
    pct: int | None,
    due: date | None,
    note: str,
) -> Callable[..., None]:
    """`who` asks on the first active case they hold then (in placement order) with nothing
    pending on it: a settlement of `pct` percent of the balance, or legal action. The full demo
    always has such cases; a small build may not, and then asks nothing."""

    def run(world: _World, session: Session, now: datetime) -> None:
        for key in candidates:
            if key in taken or world.assignee.get(key) != who:
                continue
            case = session.get(Case, world.case_ids[key])
            # Nothing promised, nobody deciding yet, and a balance worth discounting (100 units).
            if case is None or case.status != "active" or case.routed_reason:
                continue
            if case.balance < 10_000:
                continue
            taken.add(key)
            actor = world.users[who]
            if what == "legal":
                decisions.request_legal_escalation(
                    session=session,
                    now=now,
                    actor=actor,
                    case_id=case.id,
                    settings=world.settings,
                    reason=note,
                )
                return
            assert pct is not None and due is not None
            # Whole units of the currency, the way people agree amounts on the phone.
            amount = max(100, case.balance * pct // 100 // 100 * 100)
            settlements.request_settlement(
                session=session,
                now=now,
                actor=actor,
                case_id=case.id,
                amount=amount,
                due_date=due,
                settings=world.settings,
                note=note,
            )
            return
        # Nothing suitable: only small builds (tests of the generator) run out of active cases.

    return run


# Contact data kept by the agents in the last days (services/contacts): a number and an e-mail the
# debtor gave, a third party, Reg F consent, a do-not-call request, returned mail, a skip-traced
# number, a third party who objected. Fixed instants, no random draws (the rest of the demo stays).
_CONTACT_DAYS = (
    datetime(2026, 11, 18, 3, 0, tzinfo=UTC),
    datetime(2026, 11, 18, 6, 0, tzinfo=UTC),
    datetime(2026, 11, 19, 2, 0, tzinfo=UTC),
    datetime(2026, 11, 19, 3, 0, tzinfo=UTC),
)
_NEW_NUMBERS = {
    "CN": ("+86 137 1234 5601", "+86 137 1234 5602", "+86 137 1234 5603", "+86 137 1234 5604"),
    "US": ("+1 212 555 0191", "+1 212 555 0192", "+1 212 555 0193", "+1 212 555 0194"),
    "GB": ("07700 900 451", "07700 900 452", "07700 900 453", "07700 900 454"),
}

_SWITCHBOARDS = {"CN": "+86 21 6321 0000", "US": "+1 212 736 5000", "GB": "020 7946 0018"}


def _plan_contact_data(planner: _Planner, plans: list[_CasePlan]) -> None:
    candidates = [(p.key, p.country) for p in plans if p.storyline == "active"]
    taken: set[str] = set()
    for step, at in enumerate(_CONTACT_DAYS):
        planner.at(at, _contact_data(candidates, taken, step))


def _contact_data(
    candidates: list[tuple[str, str]], taken: set[str], step: int
) -> Callable[..., None]:
    def run(world: _World, session: Session, now: datetime) -> None:
        for key, country in candidates:
            if key in taken or world.assignee.get(key) != "alice":
                continue
            case = session.get(Case, world.case_ids[key])
            if case is None or case.status != "active" or case.routed_reason:
                continue
            taken.add(key)
            _contact_step(world, session, now, case, country, step)
            return

    return run


def _new_number(
    world: _World, session: Session, now: datetime, case: Case, country: str, **kw: Any
) -> Any:
    """The first of the country's demo numbers the debtor does not have yet."""
    for text in _NEW_NUMBERS.get(country, _NEW_NUMBERS["CN"]):
        try:
            return book.add_phone(
                session=session,
                now=now,
                actor=world.users["alice"],
                settings=world.settings,
                case_id=case.id,
                number=text,
                **kw,
            )
        except InvalidInput:
            continue
    return None


def _contact_step(
    world: _World, session: Session, now: datetime, case: Case, country: str, step: int
) -> None:
    alice = world.users["alice"]
    common: dict[str, Any] = {
        "session": session,
        "now": now,
        "actor": alice,
        "settings": world.settings,
        "case_id": case.id,
    }
    own = list(
        session.exec(
            select(Phone)
            .where(Phone.debtor_id == case.debtor_id, col(Phone.valid))
            .order_by(col(Phone.is_primary).desc(), col(Phone.created_at), col(Phone.id))
        )
    )
    if step == 0:
        _new_number(
            world, session, now, case, country, phone_type="mobile", source="debtor",
            consent=("sms",), consent_how="asked for text reminders on the call",
        )  # fmt: skip
        book.add_email(
            **common, address=f"debtor.{case.client_ref.lower()}@example.com", source="debtor",
            opt_in=True, opt_in_how="web form",
        )  # fmt: skip
        book.add_third_party(
            **common, name="Harbour Logistics (HR desk)", relation="employer",
            phone=_SWITCHBOARDS.get(country, _SWITCHBOARDS["CN"]), source="debtor",
            note="confirms employment only",
        )  # fmt: skip
    elif step == 1 and own:
        book.set_phone_consent(
            **common, phone_id=own[0].id, channel="call", until=now + timedelta(days=7),
            how="asked to be called after work, also late in the evening",
        )  # fmt: skip
    elif step == 2:
        for position, phone in enumerate(own):
            book.mark_contact(
                **common, kind="phone", contact_id=phone.id,
                status="dnc" if position == 0 else "disconnected",
                how="said on the call: stop contacting this number" if position == 0 else None,
            )  # fmt: skip
        saved = book.add_address(**common, text="Flat 3, 12 Old Mill Lane", source="agent")
        book.mark_contact(
            **common, kind="address", contact_id=saved.contact_id, status="returned",
            reason="letter came back: addressee unknown",
        )  # fmt: skip
    elif step == 3:
        found = _new_number(world, session, now, case, country, source="skip trace")
        if found is not None:
            book.mark_contact(
                **common, kind="phone", contact_id=found.contact_id, status="unverified",
            )  # fmt: skip
        party = book.add_third_party(
            **common, name="Li Na (sister)", relation="relative", source="agent",
        )  # fmt: skip
        book.record_objection(**common, party_id=party.contact_id, how="asked not to be called")


def _run_events(store: db.Store, world: _World, events: list[_Event]) -> None:
    """Replay the events in time order, one write transaction per simulated day."""
    heapq.heapify(events)
    while events:
        current_day = events[0].at.date()
        with store.write() as session:
            while events and events[0].at.date() == current_day:
                event = heapq.heappop(events)
                event.run(world, session, event.at)


def _summary(store: db.Store) -> DemoSummary:
    with store.read() as session:
        statuses: dict[str, int] = {}
        countries: dict[str, int] = {}
        rows = session.exec(
            select(Case.status, Debtor.country).join(Debtor, col(Debtor.id) == col(Case.debtor_id))
        ).all()
        for status, country in rows:
            statuses[status] = statuses.get(status, 0) + 1
            countries[country] = countries.get(country, 0) + 1
    return DemoSummary(cases=len(rows), statuses=statuses, countries=countries)


def _compact(path: Path) -> None:
    # One self-contained file: no WAL beside it, free pages dropped.
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("VACUUM")
    finally:
        connection.close()


# --- using the demo -----------------------------------------------------------------------------


def shipped_demo() -> Path | None:
    """The repository's `sample_db/demo.db`, when the package runs from a checkout."""
    candidate = Path(__file__).resolve().parents[2] / "sample_db" / "demo.db"
    return candidate if candidate.is_file() else None


def _cached_demo() -> Path:
    """Without the repository (an installed package), build the demo once per version and keep it
    in the user cache folder."""
    import platformdirs

    from collector_tui import __version__

    folder = Path(platformdirs.user_cache_dir("collector-tui", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    cached = folder / f"demo-{__version__}.db"
    if not cached.is_file():
        building = folder / f".demo-{__version__}.building.db"
        build_demo(building, cases=DEMO_CASES)
        building.replace(cached)
    return cached


def fresh_demo_copy(folder: Path) -> Path:
    """A demo database of our own in `folder`: a copy of the shipped file (brought up to the
    current schema), or of one built once when the repository's file is not at hand."""
    target = Path(folder) / "demo.db"
    source = shipped_demo() or _cached_demo()
    # The backup API copies a consistent state even if someone has the file open in WAL mode.
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()
    store = bootstrap.open_store(target)
    try:
        db.upgrade(store)
    finally:
        store.dispose()
    return target


def _canonical_note(note: str | None) -> str | None:
    """A sent letter's note names its file, whose folder and name (a hash of ids) differ between
    builds; its hash does not."""
    if note is None:
        return None
    return re.sub(r"^(Letter \S+): .* \((sha256 [0-9a-f]+)\)$", r"\1 (\2)", note)


def canonical_dump(store: db.Store) -> dict[str, list[tuple[Any, ...]]]:
    """The demo's content without row ids or password salts: equal for two builds of one seed."""
    with store.read() as session:
        user = {u.id: u.username for u in session.exec(select(User))}
        ref = {c.id: f"{c.client}/{c.client_ref}" for c in session.exec(select(Case))}
        debtor_name = {d.id: d.name for d in session.exec(select(Debtor))}
        plan_case = {p.id: ref[p.case_id] for p in session.exec(select(PaymentPlan))}

        def rows(statement: Any, shape: Callable[[Any], tuple[Any, ...]]) -> list[tuple[Any, ...]]:
            return sorted((shape(row) for row in session.exec(statement)), key=repr)

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "users": rows(
                select(User), lambda u: (u.username, u.display_name, u.role, u.time_zone, u.active)
            ),
            "debtors": rows(
                select(Debtor),
                lambda d: (
                    d.name,
                    d.kind,
                    d.country,
                    d.address,
                    d.language,
                    d.risk_grade,
                    d.deceased,
                    d.bankrupt,
                ),
            ),
            "phones": rows(
                select(Phone),
                lambda p: (
                    debtor_name[p.debtor_id],
                    p.e164,
                    p.raw,
                    p.kind,
                    p.is_primary,
                    p.valid,
                    p.time_zones,
                    p.do_not_call,
                ),
            ),
            "cases": rows(
                select(Case),
                lambda c: (
                    ref[c.id],
                    debtor_name[c.debtor_id],
                    c.currency,
                    c.principal,
                    c.fees,
                    c.interest,
                    c.balance,
                    c.due_date.isoformat(),
                    c.placed_date.isoformat(),
                    c.status,
                    user.get(c.assigned_to_id),
                    c.queue_tier,
                    c.priority,
                    c.score,
                    iso(c.next_action_at),
                    iso(c.last_attempt_at),
                    iso(c.last_contact_at),
                    c.routed_reason,
                    c.version,
                ),
            ),
            "invoices": rows(
                select(Invoice),
                lambda i: (
                    ref[i.case_id],
                    i.number,
                    i.due_date.isoformat(),
                    i.amount,
                    i.open_amount,
                ),
            ),
            "activities": rows(
                select(Activity),
                lambda a: (
                    ref[a.case_id],
                    user.get(a.user_id),
                    iso(a.occurred_at),
                    a.channel,
                    a.direction,
                    a.phone_e164,
                    a.disposition,
                    _canonical_note(a.note),
                    a.duration_s,
                ),
            ),
            "reminders": rows(
                select(Reminder),
                lambda r: (
                    ref[r.case_id],
                    r.channel,
                    r.template,
                    r.language,
                    r.sequence,
                    r.step,
                    r.due_date.isoformat(),
                    r.status,
                    r.reason,
                    r.tries,
                    iso(r.sent_at),
                    r.pdf_sha256,
                ),
            ),
            "promises": rows(
                select(Promise),
                lambda p: (
                    ref[p.case_id],
                    p.plan_id is not None,
                    p.amount,
                    p.paid_amount,
                    p.due_date.isoformat(),
                    p.grace_days,
                    p.status,
                    iso(p.resolved_at),
                ),
            ),
            "plans": rows(select(PaymentPlan), lambda p: (plan_case[p.id], p.status)),
            "payments": rows(
                select(Payment),
                lambda p: (
                    ref[p.case_id],
                    p.amount,
                    p.received_on.isoformat(),
                    p.method,
                    p.reference,
                    user.get(p.recorded_by_id),
                ),
            ),
            "follow_ups": rows(
                select(FollowUp),
                lambda f: (
                    ref[f.case_id],
                    user.get(f.owner_id),
                    iso(f.due_at),
                    f.reason,
                    iso(f.done_at),
                ),
            ),
            "holds": rows(
                select(Hold),
                lambda h: (ref[h.case_id], h.kind, h.reason, iso(h.placed_at), iso(h.released_at)),
            ),
            "assignments": rows(
                select(Assignment),
                lambda a: (
                    ref[a.case_id],
                    user.get(a.from_user_id),
                    user.get(a.to_user_id),
                    user.get(a.moved_by_id),
                    iso(a.at),
                    a.reason,
                ),
            ),
            "settlements": rows(
                select(Settlement),
                lambda s: (
                    ref[s.case_id],
                    s.amount,
                    s.balance,
                    s.due_date.isoformat(),
                    s.status,
                    s.note,
                    user.get(s.requested_by_id),
                    iso(s.requested_at),
                    user.get(s.decided_by_id),
                    iso(s.decided_at),
                    s.promise_id is not None,
                ),
            ),
            "charges": rows(
                select(CaseCharge),
                lambda c: (
                    ref[c.case_id],
                    c.component,
                    c.amount,
                    c.reason,
                    user.get(c.created_by_id),
                    iso(c.created_at),
                ),
            ),
            "audit": rows(
                select(AuditEvent),
                lambda e: (iso(e.at), user.get(e.user_id), e.entity, e.action),
            ),
        }
