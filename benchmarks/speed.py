"""Answer speed, load time and memory: the shipped knowledge and a generated 50,000-phrasing file.

Prints tables, asserts nothing (this is a benchmark, not a test). For each knowledge base the
engine's `answer()` is timed one question at a time beside the plain fuzzy baseline a simpler bot
would use, `rapidfuzz.process.extractOne(query, phrasings, scorer=fuzz.WRatio)`, over the same
phrasings. The generated file is built from word lists with a fixed seed, written as YAML and
loaded through the real loader and validator, so its load time is what an admin would wait.

    python benchmarks/speed.py [--facts 10000] [--queries 300] [--seed 1] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import random
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml
from _common import (
    REPO_ROOT,
    Progress,
    add_typos,
    current_rss_mb,
    knowledge_yaml,
    load_knowledge_bytes,
    median_p99,
    peak_rss_mb,
    table,
    time_calls,
)
from rapidfuzz import fuzz, process, utils

from bot.core import Engine, Knowledge, Reply, Status
from bot.core.yamlsafe import decode_text, load_yaml_text

SHIPPED = REPO_ROOT / "knowledge" / "meetings.yaml"
CASES = REPO_ROOT / "tests" / "questions.yaml"
TARGET_P99_SHIPPED_MS = 2.0
TARGET_P99_LARGE_MS = 10.0
TARGET_LOAD_S = 3.0
BASELINE_SAMPLE_LARGE = 50
FACTS_PER_MEETING = 20

# --- word lists for the generated knowledge -------------------------------------------------

ORGS = {
    "UNECE": "United Nations Economic Commission for Europe",
    "OSCE": "Organization for Security and Co-operation in Europe",
    "UNIFEM": "United Nations Development Fund for Women",
    "UNDP": "United Nations Development Programme",
    "ILO": "International Labour Organization",
    "UNODC": "United Nations Office on Drugs and Crime",
    "ESCAP": "Economic and Social Commission for Asia and the Pacific",
    "ECLAC": "Economic Commission for Latin America and the Caribbean",
    "UNICEF": "United Nations Children's Fund",
    "UNFPA": "United Nations Population Fund",
    "IOM": "International Organization for Migration",
    "OHCHR": "Office of the High Commissioner for Human Rights",
    "DAW": "Division for the Advancement of Women",
    "ECA": "Economic Commission for Africa",
    "ESCWA": "Economic and Social Commission for Western Asia",
    "UNHCR": "Office of the United Nations High Commissioner for Refugees",
}
MEETING_TYPES = {
    "Expert Group Meeting": "expert group",
    "Regional Consultation": "consultation",
    "High-Level Panel": "panel",
    "Working Group Session": "working group",
    "Inter-Agency Roundtable": "roundtable",
    "Ministerial Conference": "ministerial",
    "Technical Workshop": "workshop",
    "Annual Forum": "forum",
    "Policy Dialogue": "dialogue",
    "Review Meeting": "review",
    "Training Seminar": "seminar",
    "Special Session": "special session",
}
TOPICS = [
    "Trafficking in Women and Girls", "Violence against Women", "Migrant Domestic Workers",
    "Gender Statistics", "Rural Women", "Maternal Health", "Girls' Education",
    "Women in Decision-Making", "Gender Budgeting", "Forced Labour", "Child Marriage",
    "Women's Economic Empowerment", "Gender and Climate Change", "Refugee Women",
    "Sexual Exploitation of Children", "Women, Peace and Security", "Gender Mainstreaming",
    "Labour Migration", "Equal Pay", "Older Women", "Women with Disabilities",
    "Human Rights of Victims", "Border Management", "Female Genital Mutilation",
    "Microfinance for Women", "Reproductive Rights", "Domestic Violence Legislation",
    "Gender-Based Violence in Conflict", "Women's Land Rights", "Care Work",
]  # fmt: skip
PLACES = [
    "Geneva", "Vienna", "New York", "Bangkok", "Nairobi", "Santiago", "Addis Ababa", "Beirut",
    "Warsaw", "Tashkent", "Dakar", "Manila", "Kathmandu", "Istanbul", "Bucharest", "Lima",
    "Cairo", "Amman", "Kyiv", "Tbilisi", "Sarajevo", "Skopje", "Brussels", "Rome", "Madrid",
    "Oslo", "Helsinki", "Tallinn", "Riga", "Vilnius", "Chisinau", "Yerevan", "Baku", "Almaty",
    "Bishkek", "Dushanbe", "Ulaanbaatar", "Hanoi", "Jakarta", "Dhaka", "Colombo", "Accra",
    "Lagos", "Kampala", "Lusaka", "Harare", "Maputo", "Windhoek", "Quito", "Bogota",
    "Montevideo", "Panama City", "Kingston", "Port of Spain", "Mexico City", "Ottawa", "Tokyo",
    "Seoul", "Canberra", "Suva",
]  # fmt: skip
SUBTOPICS = [
    "victim protection", "prosecution of traffickers", "shelters", "hotlines", "data collection",
    "national action plans", "labour inspection", "recruitment agencies", "visa policy",
    "reintegration", "compensation for victims", "police training", "judicial cooperation",
    "awareness campaigns", "school curricula", "media coverage", "online exploitation",
    "birth registration", "social protection", "pensions", "childcare", "parental leave",
    "quotas for women", "electoral reform", "gender audits", "indicators", "time-use surveys",
    "microcredit", "land titles", "inheritance law", "water and sanitation", "disaster response",
    "peacekeeping", "sexual harassment", "workplace safety", "informal employment",
    "remittances", "return migration", "asylum procedures", "legal aid", "witness protection",
    "corruption", "supply chains", "forced marriage", "early pregnancy", "HIV prevention",
    "mental health", "disability services", "older persons", "youth employment",
]  # fmt: skip
PEOPLE = [
    "Ms. Amina Diallo", "Mr. Jan Kowalski", "Ms. Elena Petrova", "Mr. Carlos Mendes",
    "Ms. Ingrid Larsen", "Dr. Fatima Haddad", "Ms. Nguyen Thi Lan", "Mr. Kwame Mensah",
    "Ms. Sofia Rossi", "Dr. Anil Kapoor", "Ms. Maria Gonzalez", "Mr. Tomas Novak",
    "Ms. Leila Nasser", "Dr. Yuki Tanaka", "Ms. Olga Ivanova", "Mr. Pierre Dubois",
]  # fmt: skip
FILLER_WORDS = [
    "strengthening", "cooperation", "national", "regional", "capacity", "monitoring",
    "implementation", "legislation", "coordination", "prevention", "protection", "partnership",
    "evaluation", "mechanisms", "resources", "commitments", "standards", "guidelines",
    "stakeholders", "institutions", "outreach", "programmes", "policies", "services", "networks",
]  # fmt: skip

# Each aspect: fact kind, five or more question templates ({m} = the meeting, {s} = subtopic),
# and whether it takes a subtopic. Twelve generic aspects plus subtopic ones give each meeting
# its twenty facts.
ASPECTS: list[tuple[str, bool, list[str]]] = [
    ("date", False, ["When was {m} held?", "what dates did {m} take place", "On which days did "
     "{m} meet?", "how long did {m} last", "when did {m} start and end", "what year was {m}"]),
    ("place", False, ["Where was {m} held?", "which city hosted {m}", "in what venue did {m} "
     "take place", "where did {m} meet", "what country was {m} in"]),
    ("person", False, ["Who chaired {m}?", "who was the chairperson of {m}", "who presided "
     "over {m}", "who led the sessions of {m}", "name of the chair of {m}"]),
    ("organisation", False, ["Who organised {m}?", "which agencies convened {m}", "who was "
     "behind {m}", "who hosted {m}", "which organisations co-sponsored {m}"]),
    ("number", False, ["How many participants attended {m}?", "how many people came to {m}",
     "what was the attendance at {m}", "number of delegates at {m}", "how big was {m}"]),
    ("other", False, ["Which countries took part in {m}?", "what member states attended {m}",
     "list of governments represented at {m}", "which states sent delegations to {m}",
     "were any observer states at {m}"]),
    ("topic", False, ["What was the purpose of {m}?", "why was {m} convened", "what was {m} "
     "meant to achieve", "what were the objectives of {m}", "what did {m} aim to do"]),
    ("document", False, ["What document came out of {m}?", "is there a final report of {m}",
     "what is the symbol of the report of {m}", "where can I find the outcome of {m}",
     "did {m} adopt a declaration"]),
    ("person", False, ["Who was the rapporteur of {m}?", "who wrote up the conclusions of {m}",
     "was a rapporteur elected at {m}", "who served as rapporteur for {m}", "name of the "
     "rapporteur at {m}"]),
    ("event", False, ["Who opened {m}?", "who gave the opening statement at {m}", "who welcomed "
     "participants to {m}", "who made the keynote speech at {m}", "how was {m} opened"]),
    ("organisation", False, ["Who paid for {m}?", "how was {m} funded", "what was the budget "
     "of {m}", "which donors supported {m}", "did any government fund {m}"]),
    ("contact", False, ["Who is the contact person for {m}?", "whom should I email about {m}",
     "who to contact about registration for {m}", "who coordinated the logistics of {m}",
     "what is the secretariat address for {m}"]),
    ("recommendation", True, ["What did {m} recommend on {s}?", "recommendations of {m} about "
     "{s}", "what was agreed at {m} regarding {s}", "did {m} say anything about {s}", "which "
     "measures on {s} did {m} propose"]),
    ("person", True, ["Who spoke about {s} at {m}?", "which experts presented on {s} at {m}",
     "who were the panellists on {s} at {m}", "speakers on {s} at {m}", "who led the "
     "discussion of {s} at {m}"]),
    ("definition", True, ["How did {m} define {s}?", "what definition of {s} was used at {m}",
     "what does {s} mean in the report of {m}", "did {m} agree on a definition of {s}",
     "meaning of {s} according to {m}"]),
    ("number", True, ["What figures on {s} were presented at {m}?", "what data on {s} did {m} "
     "cite", "statistics about {s} from {m}", "how much progress on {s} was reported at {m}",
     "any numbers on {s} at {m}"]),
    ("conclusion", True, ["What did {m} conclude about {s}?", "conclusions of {m} on {s}",
     "what was the outcome of {m} on {s}", "key findings of {m} on {s}", "did {m} reach "
     "conclusions on {s}"]),
]  # fmt: skip
GENERIC_ASPECTS = [a for a in ASPECTS if not a[1]]
SUBTOPIC_ASPECTS = [a for a in ASPECTS if a[1]]

UNRELATED_TEMPLATES = [
    "what's the weather in {place} tomorrow", "how do I reset my {device} password",
    "who won the {sport} world cup in {year}", "recommend a good {food} restaurant in {place}",
    "what is the capital of {country}", "how many calories are in a {food} dish",
    "when does the supermarket in {place} close", "convert 30 {unit} to metres",
    "who chaired the G20 summit in {place} in {year}", "when was the {place} film festival held",
    "how do I renew my passport in {country}", "what is the exchange rate of the {country} "
    "currency", "book me a flight from {place} to {place2}", "tell me a joke about {food}",
    "where was the {sport} final played in {year}", "who organised the {place} marathon",
    "how many people live in {place}", "what time is it in {country}",
]  # fmt: skip
UNRELATED_SLOTS: dict[str, list[str]] = {
    "device": ["phone", "laptop", "router", "email", "bank account"],
    "sport": ["football", "rugby", "cricket", "hockey", "basketball"],
    "food": ["sushi", "pizza", "vegan", "thai", "burger"],
    "country": ["Peru", "Norway", "Kenya", "Japan", "Chile", "Canada", "Egypt"],
    "unit": ["feet", "inches", "yards", "miles"],
}
CASUAL_PREFIXES = ["", "", "", "@bot ", "hey, ", "quick question: ", "do you know ", "pls "]


@dataclass
class Timing:
    """One row of the speed table."""

    knowledge: str
    phrasings: int
    method: str
    ms: np.ndarray
    baseline: Timing | None = None

    def row(self) -> list[str]:
        median, p99 = median_p99(self.ms)
        ratio = "1.00×"
        if self.baseline is not None:
            ratio = f"{median / median_p99(self.baseline.ms)[0]:.3f}×"
        return [self.knowledge, f"{self.phrasings:,}", self.method, str(len(self.ms)),
                f"{median:.2f}", f"{p99:.2f}", ratio]  # fmt: skip


@dataclass
class LoadTiming:
    """Seconds spent in each phase of making a knowledge file answerable."""

    megabytes: float
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.phases.values())


# --- the generated knowledge ----------------------------------------------------------------


def generate_knowledge(facts: int, rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """A knowledge dict of `facts` facts × 5 questions, plus every phrasing in file order.

    Meetings are named from organisations, meeting types, topics, places and years; each fact
    asks one aspect of one meeting, referring to it by its name, an alias or its place and
    year, so phrasings share the vocabulary real ones share ("who chaired", "when was").
    """
    meetings = _generate_meetings(max(1, -(-facts // FACTS_PER_MEETING)), rng)
    sources = [
        {"id": f"src-{i:03d}", "file": f"{i:03d}_generated.txt", "title": f"Generated report "
         f"{i}", "symbol": None, "date": "2005", "kind": "report"}
        for i in range(len(meetings) // 10 + 1)
    ]  # fmt: skip
    fact_items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for meeting, references in meetings:
        for aspect, subtopic in _meeting_aspects(rng):
            if len(fact_items) == facts:
                break
            questions = _fact_questions(aspect, subtopic, references, seen, rng)
            if questions is None:
                continue
            fact_items.append(_fact(len(fact_items), meeting, aspect, subtopic, questions, rng))
    document = {
        "version": 1,
        "sources": sources,
        "meetings": [meeting for meeting, _ in meetings],
        "facts": fact_items,
        "synonyms": {short: [long] for short, long in ORGS.items()},
    }
    return document, [q for fact in fact_items for q in fact["questions"]]


def _generate_meetings(count: int, rng: random.Random) -> list[tuple[dict[str, Any], list[str]]]:
    """Meetings with unique names and aliases, and the phrases questions use to refer to them."""
    taken: set[str] = set()
    meetings = []
    while len(meetings) < count:
        org = rng.choice(list(ORGS))
        kind, short = rng.choice(list(MEETING_TYPES.items()))
        topic = rng.choice(TOPICS)
        place = rng.choice(PLACES)
        year = rng.randint(1995, 2015)
        name = f"{org} {kind} on {topic}"
        aliases = [f"{org} {short} {year}", f"{place} {topic.lower()} {short}"]
        place_ref = f"the {place} {short} in {year}"
        keys = {p.lower() for p in (name, *aliases, place_ref)}
        if keys & taken:
            continue
        taken |= keys
        meeting_id = f"m{len(meetings):04d}-{org.lower()}-{year}"
        month = rng.randint(1, 12)
        day = rng.randint(1, 26)
        meeting = {
            "id": meeting_id, "kind": "meeting", "name": name, "aliases": aliases,
            "start": f"{year}-{month:02d}-{day:02d}", "end": f"{year}-{month:02d}-{day + 2:02d}",
            "place": f"{place}", "organisers": [ORGS[org]], "chairs": [rng.choice(PEOPLE)],
            "source": f"src-{len(meetings) // 10:03d}",
        }  # fmt: skip
        references = [f"the {name}", f"the {aliases[0]}", f"the {aliases[1]}", place_ref]
        meetings.append((meeting, references))
    return meetings


def _meeting_aspects(rng: random.Random) -> list[tuple[tuple[str, bool, list[str]], str | None]]:
    """Twelve generic aspects plus subtopic aspects with distinct subtopics, shuffled."""
    chosen: list[tuple[tuple[str, bool, list[str]], str | None]] = [
        (a, None) for a in GENERIC_ASPECTS
    ]
    pairs = {(rng.randrange(len(SUBTOPIC_ASPECTS)), rng.choice(SUBTOPICS)) for _ in range(12)}
    chosen += [(SUBTOPIC_ASPECTS[i], s) for i, s in sorted(pairs)]
    rng.shuffle(chosen)
    return chosen


def _fact_questions(
    aspect: tuple[str, bool, list[str]],
    subtopic: str | None,
    references: list[str],
    seen: set[str],
    rng: random.Random,
) -> list[str] | None:
    """Five differently worded questions not yet used by any fact (the validator insists)."""
    templates = rng.sample(aspect[2], 5)
    questions = []
    for template in templates:
        text = template.format(m=rng.choice(references), s=subtopic or "")
        if rng.random() < 0.4:
            text = text.lower().rstrip("?")
        key = " ".join(text.lower().rstrip("?").split())
        if key in seen:
            return None
        seen.add(key)
        questions.append(text)
    return questions


def _fact(
    index: int,
    meeting: dict[str, Any],
    aspect: tuple[str, bool, list[str]],
    subtopic: str | None,
    questions: list[str],
    rng: random.Random,
) -> dict[str, Any]:
    detail = " ".join(rng.sample(FILLER_WORDS, 4))
    about = f" on {subtopic}" if subtopic else ""
    answer = f"The {meeting['name']} ({meeting['place']}, {meeting['start'][:4]}) addressed " \
             f"{aspect[0]}{about}: {detail}, as reported by {rng.choice(PEOPLE)}."  # fmt: skip
    return {
        "id": f"f{index:05d}-{aspect[0]}",
        "meeting": meeting["id"],
        "kind": aspect[0],
        "questions": questions,
        "answer": answer,
        "source": meeting["source"],
        "paragraph": str(rng.randint(1, 80)),
        "quote": f"{detail} {about}".strip(),
    }


# --- query sets -----------------------------------------------------------------------------


def perturb(question: str, rng: random.Random) -> str:
    """What a user types for a known question: casual prefix, lower case, one or two typos,
    sometimes a dropped word."""
    text = question.lower().rstrip("?") if rng.random() < 0.7 else question
    words = text.split()
    if len(words) > 5 and rng.random() < 0.3:
        del words[rng.randrange(1, len(words))]
    text = add_typos(" ".join(words), rng, rng.choice((1, 1, 2)))
    return rng.choice(CASUAL_PREFIXES) + text


def unrelated(rng: random.Random) -> str:
    """An out-of-scope question, some shaped like in-scope ones ("who chaired the G20...")."""
    slots = {name: rng.choice(values) for name, values in UNRELATED_SLOTS.items()}
    slots |= {"place": rng.choice(PLACES), "place2": rng.choice(PLACES),
              "year": str(rng.randint(1990, 2020))}  # fmt: skip
    return rng.choice(UNRELATED_TEMPLATES).format(**slots)


def shipped_queries(knowledge: Knowledge, count: int, rng: random.Random) -> list[str]:
    """The development question set plus typo'd versions of the knowledge's own questions."""
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8")) if CASES.exists() else []
    if isinstance(cases, dict):
        cases = cases.get("cases", [])
    queries = [str(c.get("q") or c.get("question")) for c in cases or [] if isinstance(c, dict)]
    phrasings = [q for fact in knowledge.facts.values() for q in fact.questions]
    queries += [perturb(rng.choice(phrasings), rng) for _ in range(count)]
    return queries


def large_queries(
    phrasings: list[str], count: int, rng: random.Random
) -> tuple[list[str], list[str | None]]:
    """70% perturbed known phrasings, 30% unrelated; with the phrasing each one came from."""
    queries: list[str] = []
    origins: list[str | None] = []
    for _ in range(count):
        if rng.random() < 0.7:
            origin = rng.choice(phrasings)
            queries.append(perturb(origin, rng))
            origins.append(origin)
        else:
            queries.append(unrelated(rng))
            origins.append(None)
    return queries, origins


# --- measurement ----------------------------------------------------------------------------


def wratio_baseline(phrasings: Sequence[str]) -> Callable[[str], object]:
    """Plain fuzzy 1-NN. Choices are case-folded once, as a sensible simple bot would do
    (passing `processor=` instead would re-process all of them on every call)."""
    choices = [utils.default_process(p) for p in phrasings]

    def call(query: str) -> object:
        return process.extractOne(utils.default_process(query), choices, scorer=fuzz.WRatio)

    return call


def load_phases(raw: bytes, name: str) -> tuple[Engine, LoadTiming]:
    """Load, validate and index `raw`, timing parse / validate / index separately.

    The product path is `knowledge_from_bytes` (parse + validate + build) then `Engine(...)`;
    the parse is also timed on its own so the validation share can be told apart.
    """
    timing = LoadTiming(len(raw) / 2**20)
    start = time.perf_counter()
    load_yaml_text(decode_text(raw, len(raw)))
    parse = time.perf_counter() - start
    gc.collect()
    start = time.perf_counter()
    knowledge = load_knowledge_bytes(raw, name)
    load = time.perf_counter() - start
    timing.phases["YAML parse (safe loader)"] = parse
    timing.phases["validate + build Knowledge"] = max(0.0, load - parse)
    start = time.perf_counter()
    engine = Engine(knowledge)
    timing.phases["Engine index build"] = time.perf_counter() - start
    return engine, timing


def index_memory_mb(knowledge: Knowledge) -> float:
    """Memory the Engine's index keeps alive, traced allocation by allocation."""
    gc.collect()
    tracemalloc.start()
    engine = Engine(knowledge)
    retained, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del engine
    return retained / 2**20


def sanity(replies: list[Reply], origins: list[str | None], knowledge: Knowledge) -> str:
    """One line of accuracy: fast is worthless if the answers are wrong."""
    fact_of = {q: f.id for f in knowledge.facts.values() for q in f.questions}
    pairs = list(zip(replies, origins, strict=True))
    known = [(r, fact_of[o]) for r, o in pairs if o is not None]
    other = [r for r, o in pairs if o is None]
    right = sum(r.fact == fact for r, fact in known)
    refused = sum(r.status == Status.NO_MATCH for r in other)
    return (
        f"sanity: the engine answered the source fact for {right}/{len(known)} perturbed queries "
        f"and refused {refused}/{len(other)} unrelated ones"
    )


def profile_answers(engine: Engine, queries: list[str], limit: int = 18) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for query in queries:
        engine.answer(query)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def profile_load(raw: bytes, name: str, limit: int = 18) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    Engine(load_knowledge_bytes(raw, name))
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


# --- main -----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", type=int, default=10_000, help="facts in the generated file")
    parser.add_argument("--queries", type=int, default=300, help="generated queries per set")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over each set")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile answering and loading the large file"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    note = Progress()
    timings: list[Timing] = []

    note("shipped knowledge: load, index, time")
    shipped_engine, shipped_load = load_phases(SHIPPED.read_bytes(), str(SHIPPED))
    shipped = shipped_engine.knowledge
    shipped_phrasings = [q for fact in shipped.facts.values() for q in fact.questions]
    queries = shipped_queries(shipped, args.queries, rng)
    label = "shipped"
    base_ms, _ = time_calls(wratio_baseline(shipped_phrasings), queries, args.rounds)
    base = Timing(label, len(shipped_phrasings), "rapidfuzz WRatio 1-NN", base_ms)
    engine_ms, _ = time_calls(shipped_engine.answer, queries, args.rounds)
    timings += [Timing(label, len(shipped_phrasings), "engine.answer", engine_ms, base), base]

    note(f"generating {args.facts:,} facts")
    document, phrasings = generate_knowledge(args.facts, rng)
    raw = knowledge_yaml(document)
    del document
    note(f"loading the generated file ({len(raw) / 2**20:.1f} MB)")
    rss_before = current_rss_mb()
    engine, large_load = load_phases(raw, "generated.yaml")
    rss_after = current_rss_mb()
    label = f"generated, {args.facts:,} facts"
    queries, origins = large_queries(phrasings, args.queries, rng)
    note("timing the engine on the generated file")
    engine_ms, replies = time_calls(engine.answer, queries, args.rounds)
    note("timing the baseline on the generated file")
    sample = rng.sample(queries, min(BASELINE_SAMPLE_LARGE, len(queries)))
    base_ms, _ = time_calls(wratio_baseline(phrasings), sample, rounds=1, warmup=2)
    base = Timing(label, len(phrasings), f"rapidfuzz WRatio 1-NN ({len(sample)} q)", base_ms)
    timings += [Timing(label, len(phrasings), "engine.answer", engine_ms, base), base]
    note("tracing the index's memory")
    index_mb = index_memory_mb(engine.knowledge)
    memory = [
        ["RSS growth while loading + indexing the generated file", f"{rss_after - rss_before:.0f}"],
        ["Engine index retained (tracemalloc, generated file)", f"{index_mb:.0f}"],
        ["peak RSS of this process", f"{peak_rss_mb():.0f}"],
    ]
    report(timings, [("shipped", shipped_load), (label, large_load)], memory, len(phrasings))
    print(f"\n{sanity(replies, origins, engine.knowledge)}")
    if args.profile:
        note("profiling")
        print("\n## cProfile: answering the generated-file queries\n")
        print(profile_answers(engine, queries))
        print("## cProfile: loading + indexing the generated file\n")
        print(profile_load(raw, "generated.yaml"))


def report(
    timings: list[Timing],
    loads: list[tuple[str, LoadTiming]],
    memory: list[list[str]],
    phrasings: int,
) -> None:
    """Print the four tables: time per question, load phases, memory, targets."""
    print("## Time per question (one at a time; per query the median of the passes)\n")
    print(table(["knowledge", "phrasings", "method", "queries", "median ms", "p99 ms",
                 "ratio vs baseline (median)"], [t.row() for t in timings]))  # fmt: skip
    print("\n## Load + validate + index\n")
    rows = []
    for name, load in loads:
        rows += [[name, f"{load.megabytes:.1f}", phase, f"{sec:.2f}"]
                 for phase, sec in load.phases.items()]  # fmt: skip
        rows.append([name, f"{load.megabytes:.1f}", "total", f"{load.total:.2f}"])
    print(table(["knowledge", "MB", "phase", "seconds"], rows))
    print("\n## Memory\n")
    print(table(["measure", "MB"], memory))
    shipped_p99 = median_p99(timings[0].ms)[1]
    large_p99 = median_p99(timings[2].ms)[1]
    large_load = loads[1][1].total
    print("\n## Targets\n")
    print(table(["target", "measured", "verdict"], [
        [f"p99 ≤ {TARGET_P99_SHIPPED_MS:g} ms, shipped knowledge", f"{shipped_p99:.2f} ms",
         verdict(shipped_p99, TARGET_P99_SHIPPED_MS)],
        [f"p99 ≤ {TARGET_P99_LARGE_MS:g} ms, {phrasings:,} phrasings", f"{large_p99:.2f} ms",
         verdict(large_p99, TARGET_P99_LARGE_MS)],
        [f"load + validate + index ≤ {TARGET_LOAD_S:g} s, {phrasings:,} phrasings",
         f"{large_load:.2f} s", verdict(large_load, TARGET_LOAD_S)],
    ]))  # fmt: skip


if __name__ == "__main__":
    main()
