"""Writing the evaluation: reports/eval.json, reports/eval.md and its PNG figures."""

from __future__ import annotations

import functools
import json
import operator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import THRESHOLDS_FILE
from bot.decision import CHOICES
from bot.evaluation.fitting import MAX_DECLINED_BANKING, MAX_SUGGESTED_BANKING, MAX_WRONG

# What the report says of the thresholds, by whether they were fitted for the encoder it ran.
_FITTED_FOR = {True: "", False: " (**fitted for other weights**: run `bankbot fit-thresholds`)",
               None: " (not said which weights they were fitted for)"}
OOS_NAMES = {
    "clinc_single_domain": "CLINC single-domain banking",
    "banking77_oos_label": "BANKING77-OOS, published labels",
    "banking77_oos_label_by_text_lookup": "BANKING77-OOS, label_by_text_lookup",
}


# The targets (issue 3): where the figure sits in the report (its section, then the
# keys below it), what it is, and the target.
_B77, _CLINC = ("banking77",), ("oos", "clinc_single_domain")
TARGETS = (
    (_B77, ("top1_accuracy",), "BANKING77 top-1 FAQ accuracy", 0.94, "≥"),
    (_B77, ("decisions", "answered_wrong"), "BANKING77 in-scope queries answered wrongly", 0.02,
     "≤"),
    (_CLINC, ("similarity", "in_scope_accuracy_domain_gate"),
     "CLINC single-domain banking: in-scope accuracy at the domain gate", 0.97, "≥"),
    (_CLINC, ("similarity", "ood_oos_recall_domain_gate"),
     "CLINC single-domain banking: OOD-OOS recall at the domain gate", 0.99, "≥"),
    (_CLINC, ("similarity", "id_oos_recall_at_95_coverage"),
     "CLINC single-domain banking: ID-OOS recall at 95 % in-scope coverage", 0.80, "≥"),
)


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _target_lines(report: dict[str, Any]) -> list[str]:
    """Return the issue's targets beside the measured figures and their 95 % intervals."""
    lines = [
        "## Targets",
        "",
        "The interval is how far the test split alone pins each figure down (95 % Wilson "
        "score interval over its queries, thresholds as fitted on train/valid): a target inside "
        "it is neither shown met nor missed by this test set.",
        "",
        "| figure (test split) | measured | 95 % interval | target | |",
        "|---|---|---|---|---|",
    ]
    for section, keys, name, target, sign in TARGETS:
        result = functools.reduce(operator.getitem, section, report)
        value = functools.reduce(operator.getitem, keys, result)
        low, high = result["intervals"][keys[-1]]
        met = value >= target if sign == "≥" else value <= target
        verdict = "met" if met else "**not met**"
        if low <= target <= high:
            verdict += ", within the interval"
        lines.append(f"| {name} | {_pct(value)} | {_pct(low)} – {_pct(high)} "
                     f"| {sign} {_pct(target)} | {verdict} |")
    return [*lines, ""]


def thresholds_note() -> str:
    """Return the comment at the top of bot/thresholds.yml: how the thresholds were chosen."""
    lines = THRESHOLDS_FILE.read_text(encoding="utf-8").splitlines()
    return " ".join(line.lstrip("# ").strip() for line in lines if line.startswith("#"))


def write_plots(report: dict[str, Any], out_dir: Path) -> list[str]:
    """Draw the figures; return their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b77 = report["banking77"]
    names = []

    confusion = b77["top_error_confusion"]
    labels, counts = confusion["labels"], confusion["counts"]
    fig, ax = plt.subplots(figsize=(9, 8))
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for i, row in enumerate(counts):
        for j, n in enumerate(row):
            if n:
                ax.text(j, i, str(n), ha="center", va="center", fontsize=6,
                        color="white" if n > 20 else "black")
    ax.set_xlabel("predicted FAQ")
    ax.set_ylabel("true category")
    ax.set_title("BANKING77 test: confusion among the FAQs of the 10 most confused pairs")
    fig.tight_layout()
    fig.savefig(out_dir / "eval_confusion.png", dpi=110)
    plt.close(fig)
    names.append("eval_confusion.png")

    curve = b77["curve"]
    point = b77["operating_point"]
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.plot([c[1] for c in curve], [c[2] for c in curve], label="answer if top similarity ≥ t")
    ax.scatter([point["coverage"]], [point["precision"]], color="red", zorder=3,
               label=f"operating point (answer_threshold {point['answer_threshold']:.2f}, "
                     "full decision)")
    ax.set_xlabel("coverage (share of queries answered)")
    ax.set_ylabel("precision (share of answers right)")
    ax.set_ylim(0.85, 1.001)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("BANKING77 test: precision–coverage of the answer gate")
    fig.tight_layout()
    fig.savefig(out_dir / "eval_precision_coverage.png", dpi=110)
    plt.close(fig)
    names.append("eval_precision_coverage.png")
    return names


def _tuning_lines(meta: dict[str, Any]) -> list[str]:
    tuned = meta.get("tuning")
    if not tuned:
        return []
    seed = tuned["config"].get("seed", 0)
    restarts = tuned.get("restarts", [])
    kept = f"seed {seed}" if len(restarts) < 2 else (
        f"seed {seed}, the best on the held-out phrasings of "
        + ", ".join(f"seed {r['seed']} {_pct(r['heldout_top1'])}" for r in restarts))
    return [
        f"**Encoder tuning:** `bankbot tune`, {tuned['config']['epochs']} epoch(s), "
        f"{tuned['config'].get('soup', 1)} run(s) averaged, {kept}, "
        f"{tuned['seconds'] / 60:.1f} min, on {tuned['trained_phrasings']} FAQ phrasings; on the "
        f"{tuned['heldout_phrasings']} held-out phrasings ({tuned['split']}) top-1 went from "
        f"{_pct(tuned['heldout_top1_base'])} to {_pct(tuned['heldout_top1_tuned'])} "
        f"(scoring: {tuned.get('scoring', 'best phrasing per FAQ')}; encoded with "
        f"{tuned.get('encoder_backend', 'torch')}; PyTorch's {tuned.get('kernels', 'native')} "
        f"kernels, {tuned['config'].get('threads', 'all')} threads).",
        "",
    ]


def _stock_rasa_lines(report: dict[str, Any]) -> list[str]:
    """Return the BANKING77 comparison with stock Rasa (count vectors + DIET), if measured."""
    b77, diet = report["banking77"], report.get("banking77_diet")
    lines = ["### Beside stock Rasa (same split)", ""]
    if not diet:
        return [*lines, "Not measured in this run: `bankbot eval --diet-epochs N` (or "
                "`make eval-diet`) trains Rasa 3.6's default NLU pipeline on the same data and "
                "adds it here.", ""]
    load = diet["load_average_1min"]
    tuned = report.get("meta", {}).get("tuning")
    ours = (f"encoder tuning {tuned['seconds']:.0f} s ({tuned['seconds'] / 60:.1f} min, "
            "`bankbot tune`, once); FAQ edits need none" if tuned
            else "none (frozen encoder; the index is the phrasings' vectors)")
    return [
        *lines,
        "| model (BANKING77 train phrasings → BANKING77 test) | top-1 | macro-F1 "
        "| training wall time |",
        "|---|---|---|---|",
        "| this assistant: nearest FAQ phrasings (the encoder above) "
        f"| {_pct(b77['top1_accuracy'])} | {_pct(b77['macro_f1'])} "
        f"| {ours} |",
        f"| stock Rasa {diet['rasa_version']}: count vectors + DIET, **{diet['epochs']} "
        f"epoch(s)** | {_pct(diet['top1_accuracy'])} | {_pct(diet['macro_f1'])} "
        f"| {diet['train_seconds']:.0f} s ({diet['train_seconds'] / 60:.1f} min) |",
        "",
        f"Stock Rasa: {diet['pipeline']} (Rasa's default is 100 epochs; "
        f"{diet['epochs']} used here). Split: {diet['split']}. Its top-1 is DIET's best intent; "
        f"with the FallbackClassifier's `nlu_fallback` counted wrong "
        f"({_pct(diet['fallback_share'])} of queries) accuracy is "
        f"{_pct(diet['accuracy_with_fallback'])}. Training wall time is the whole "
        f"`rasa train nlu` run on {diet['cpus']} CPU cores shared with other jobs (1-minute load "
        f"average {load['training_start']:.1f} at the start, {load['training_end']:.1f} at the "
        f"end); parsing the test set took {diet['parse_seconds']:.0f} s. Measured "
        f"{diet['when']}.",
        "",
    ]


def _deployment_lines(report: dict[str, Any]) -> list[str]:
    """Describe each set's encoder and thresholds, with the valid figures they were fitted at."""
    lines = [
        "Each set's deployment (thresholds fitted on its valid split; figures on valid):",
        "",
        "| set | encoder | answer / clarify / margin / decline / suggest | valid in-scope right / "
        "wrong / clarified / suggested / declined | valid ID-OOS answered / declined / suggested "
        "| valid OOD-OOS declined or chat |",
        "|---|---|---|---|---|---|",
    ]
    for key, result in report["oos"].items():
        d = result["deployment"]
        t, v = d["thresholds"], d["validation"]
        tuning = d["tuning"]
        encoder = (f"tuned on its train ({tuning['trained_phrasings']} phrasings, "
                   f"{tuning['seconds'] / 60:.1f} min)" if tuning else "bundled, not tuned")
        s = v["in_scope"]
        cap = "" if v["wrong_answers_under_cap"] else " (no setting met the cap)"
        lines.append(
            f"| {OOS_NAMES[key]} | {encoder} | {t['answer_threshold']} / "
            f"{t['clarify_threshold']} / {t['clarify_margin']} / {t['decline_threshold']} / "
            f"{t['suggest_threshold']} "
            f"| {_pct(s['right'])} / {_pct(s['wrong'])}{cap} / {_pct(s['clarified'])} / "
            f"{_pct(s['suggested'])} / {_pct(s['declined'])} | {_pct(v['banking_answered'])} / "
            f"{_pct(v['banking_declined'])} / {_pct(v['banking_suggested'])} "
            f"| {_pct(v['ood_declined_or_chat'])} |")
    return [*lines, ""]


def _counts(stand_ins: dict[str, int]) -> str:
    return " / ".join(str(n) for n in stand_ins.values())


def _other_language_lines(report: dict[str, Any]) -> list[str]:
    """Return the section on questions in other languages, and on the English test queries
    given a stand-in for a decline or an escalation."""
    other = report["other_languages"]
    counts = [f"BANKING77 test {_counts(report['banking77']['stand_ins'])}"] + [
        f"{OOS_NAMES[k]} " + ", ".join(f"{p.replace('_', '-')} {_counts(n)}"
                                       for p, n in r["stand_ins"].items())
        for k, r in report["oos"].items()]
    return [
        "## Questions in other languages, and very short ones",
        "",
        "The encoder and the FAQs are English. A message that would be declined is told which "
        "language the assistant reads if fastText's language model is confident it is another "
        f"one (bot/nlu/language.py). Served decision, {other['split']}: "
        + ", ".join(f"{kind.replace('_', ' ')} {_pct(share)}"
                    for kind, share in other["decisions"].items()) + ".",
        "",
        "Not told: " + "; ".join(f"{q['language']} \"{q['text']}\" ({q['decision']})"
                                 for q in other["not_told"]) + ".",
        "",
        "English test queries told the assistant reads English only / asked for more than a "
        "word or two instead of being escalated (counts): " + "; ".join(counts) + ".",
        "",
    ]


def _hand_written_lines(written: dict[str, Any], title: str, looked_at: str,
                        wrong: str) -> list[str]:
    """Return the section on a hand-written set of messages: when it was looked at, and what
    counts as taken wrongly."""
    tallies = "; ".join(
        f"{part}: " + ", ".join(f"{group} {n} of {total}" for group, (n, total) in groups.items())
        for part, groups in written["wrong_of"].items())
    return [
        f"## {title}",
        "",
        f"Served decision, {written['split']} (hand-written; {looked_at}). Taken wrongly: "
        f"{wrong}. {tallies}.",
        "",
        "Taken wrongly: " + "; ".join(f"{w['set']} {w['kind']} \"{w['text']}\" ({w['decision']})"
                                      for w in written["wrong"]) + ".",
        "",
    ]


def _short_message_lines(report: dict[str, Any]) -> list[str]:
    """Return the section on messages of one to four words."""
    return _hand_written_lines(
        report["short_messages"], "Short messages",
        "the dev set was looked at while the router's short model was built, the held-out set "
        "once, after",
        "a bare banking word taken for a greeting, thanks, a yes, a no, a goodbye or a question "
        "whether it is a bot, or declined; chatter (laughter, filler, punctuation) not declined "
        "or asked for more; a short reply not taken for its intent")


def _conversation_message_lines(report: dict[str, Any]) -> list[str]:
    """Return the section on conversational messages that are not questions."""
    return _hand_written_lines(
        report["conversation_messages"], "Conversational messages",
        "the dev set was looked at while the router learnt them, the held-out set once, after",
        "asking whether anyone is there and not greeted; a complaint that does not reach a "
        "person; frustration not met with deny's apology or a person; dropping a question not "
        "met with never_mind or a goodbye")


def _added_faq_lines(report: dict[str, Any]) -> list[str]:
    """Return the section on questions for the FAQs served without being learnt."""
    return _hand_written_lines(
        report["added_faq_questions"], "Questions for FAQs added after tuning",
        "the dev set was looked at while the FAQs were written, the held-out set once, after; "
        "neither the encoder nor the router learnt these FAQs",
        "not answered with the FAQ named and not offered it among the choices")


def render_markdown(report: dict[str, Any], figures: list[str]) -> str:
    """Return reports/eval.md."""
    b77 = report["banking77"]
    meta = report["meta"]
    lines = [
        "# Evaluation (`bankbot eval`)",
        "",
        f"Run {meta['when']} in {report['seconds']:.0f} s. Encoder: `{meta['encoder']}` "
        f"(fingerprint {meta['fingerprint']}, weights sha256 {meta['weights_sha256'][:12]}…). "
        "Thresholds" + _FITTED_FOR[meta["thresholds_fitted_for_it"]] + ": "
        + ", ".join(f"{k} {v}" for k, v in meta["thresholds"].items()) + ".",
        "",
        f"**How the thresholds were chosen:** {thresholds_note()}",
        "",
        "Test files are read only to report; nothing here was tuned on them.",
        "",
        *_tuning_lines(meta),
        *_target_lines(report),
        "## BANKING77",
        "",
        f"Split: {b77['split']}.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| top-1 FAQ accuracy | {_pct(b77['top1_accuracy'])} |",
        f"| macro-F1 | {_pct(b77['macro_f1'])} |",
    ]
    for name, share in b77["decisions"].items():
        lines.append(f"| decision: {name.replace('_', ' ')} | {_pct(share)} |")
    lines += [
        f"| suggested, with the right FAQ among the {CHOICES} choices | "
        f"{_pct(b77['suggested_right_among'])} |",
        f"| precision of answers given | {_pct(b77['answer_precision'])} |",
        "",
        "Anchors (same test split): BERT-large fine-tuned 93.66 %, USE+ConveRT 93.36 % "
        "(Casanueva et al. 2020); frozen all-MiniLM-L6-v2 kNN-1 92.0 %, + logistic "
        "regression 92.9 % (measured here).",
        "",
        *_stock_rasa_lines(report),
        "Ten most confused pairs (BANKING77 test):",
        "",
        "| true | predicted | count |",
        "|---|---|---|",
    ]
    lines += [f"| {t} | {p} | {n} |" for t, p, n in b77["confused_pairs"]]
    lines += ["", *(f"![{f}]({f})" for f in figures), ""]
    lines += [
        "The curve varies only the similarity gate on the top FAQ; the red point is the full "
        "decision (router, clarify and answer thresholds) at the fitted operating point.",
        "",
        "## Out of scope",
        "",
        "Each set is served as a bank would serve the assistant on its FAQs, learning from the "
        "set's train split only: the FAQ index holds the train split (one FAQ per intent); the "
        "encoder is tuned on it with `bankbot tune`'s recipe (when the service serves a tuned "
        "encoder; the bundled model otherwise); the router is trained the served way for those "
        "FAQs, but without the CLINC150 finance texts the served router also learns (CLINC "
        "single-domain's ID-OOS intents are among them); the decision "
        "thresholds are fitted like `bankbot fit-thresholds` on the set's "
        "*valid* split (in-scope queries; ID-OOS as banking questions that must be neither "
        f"declined (≤ {_pct(MAX_DECLINED_BANKING)}) nor answered (≤ {_pct(MAX_WRONG)}), and "
        f"offered choices at most {_pct(MAX_SUGGESTED_BANKING)} of the time). "
        "`threshold` keeps 95 % of that set's *valid* in-scope queries (similarity of the top "
        "FAQ); in-scope accuracy counts a query right only if its top FAQ is right and clears "
        "the threshold. The ID-OOS recall at 95 % coverage uses the threshold that "
        "keeps 95 % of the *test* in-scope queries (a point on the curve, like AUROC). The "
        "*domain gate* is the threshold that best separates that set's valid in-scope queries "
        "from its valid OOD-OOS queries (the mean of the two recalls); in-scope accuracy and "
        "OOD-OOS recall at the domain gate are the issue's first out-of-scope target.",
        "",
        "| set (test split) | threshold | top-1 | in-scope acc | ID-OOS recall | OOD-OOS recall "
        "| AUROC ID | AUROC OOD | ID-OOS recall @95 % cov | domain gate | in-scope acc / "
        "OOD-OOS recall at the gate |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, result in report["oos"].items():
        s = result["similarity"]
        gate = (f"{s['domain_gate_from_valid']:.3f} | {_pct(s['in_scope_accuracy_domain_gate'])}"
                f" / {_pct(s['ood_oos_recall_domain_gate'])}"
                if "domain_gate_from_valid" in s else "– | –")
        lines.append(
            f"| {OOS_NAMES[key]} | {s['threshold_from_valid']:.3f} | {_pct(s['top1_accuracy'])} "
            f"| {_pct(s['in_scope_accuracy'])} | {_pct(s['id_oos_recall'])} "
            f"| {_pct(s['ood_oos_recall'])} | {s['auroc_id']:.3f} | {s['auroc_ood']:.3f} "
            f"| {_pct(s['id_oos_recall_at_95_coverage'])} | {gate} |")
    lines += [
        "",
        "### The decision itself (each set's encoder, router, thresholds and FAQ index)",
        "",
        "| set (test split) | queries | answered right | answered wrong | clarified | suggested "
        "| escalated | declined | intent |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, result in report["oos"].items():
        for part in ("in_scope", "id_oos", "ood_oos"):
            d = result["decisions"][part]
            right = _pct(d["answered_right"]) if "answered_right" in d else "–"
            suggested = _pct(d["suggested"])
            if part == "in_scope":
                suggested += f" (right FAQ among them: {_pct(result['suggested_right_among'])})"
            lines.append(
                f"| {OOS_NAMES[key]} | {part.replace('_', '-')} | {right} "
                f"| {_pct(d['answered_wrong'])} | {_pct(d['clarified'])} | {suggested} "
                f"| {_pct(d['escalated'])} | {_pct(d['declined'])} | {_pct(d['intent'])} |")
    lines += [
        "",
        "For ID-OOS the right outcome is *escalated* (*suggested* also reaches a person, one "
        "click later); for OOD-OOS it is *declined*.",
        "",
        *_deployment_lines(report),
        "Test texts that also occur (after lower-casing) in the set's router's training data "
        "(data/router/*.txt but banking_clinc.txt, data/nlu.yml, the set's train split): "
        + "; ".join(f"{OOS_NAMES[k]}: " + ", ".join(f"{p} {n}" for p, n in r["router_overlap"]
                                                         .items())
                    for k, r in report["oos"].items()) + ".",
        "",
        *_other_language_lines(report),
        *_short_message_lines(report),
        *_conversation_message_lines(report),
        *_added_faq_lines(report),
        "## Latency",
        "",
        f"Encode + decide, one query at a time as `/model/parse` does, "
        f"{report['latency']['queries']} BANKING77 test queries, this machine (2 shared CPU "
        f"cores): min {report['latency']['ms']['min']:.1f} ms, median "
        f"{report['latency']['ms']['median']:.1f} ms, max {report['latency']['ms']['max']:.1f} ms.",
        "",
        "## Per-FAQ precision and recall (BANKING77 test)",
        "",
        "| FAQ | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {s['label']} | {_pct(s['precision'])} | {_pct(s['recall'])} | {_pct(s['f1'])} "
              f"| {s['support']} |" for s in b77["per_faq"]]
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write eval.json, eval.md and the figures into out_dir; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report["meta"]["when"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    figures = write_plots(report, out_dir)
    (out_dir / "eval.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (out_dir / "eval.md").write_text(render_markdown(report, figures), encoding="utf-8")
    return [out_dir / "eval.json", out_dir / "eval.md", *(out_dir / f for f in figures)]
