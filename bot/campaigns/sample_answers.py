"""Synthetic campaign answers on known themes, for demos, tests and benchmarks (fictional content)."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

# theme → (problems, proposals); an answer combines one of each with a random opening and closing.
THEMES: dict[str, tuple[list[str], list[str]]] = {
    "交通拥堵与停车": (
        [
            "{place}早晚高峰堵车严重",
            "{place}停车难，车位太少",
            "{place}路段经常拥堵，通行缓慢",
            "{place}乱停车占用车道",
        ],
        ["优化红绿灯配时", "增设公交专用道", "建设立体停车场", "推行错峰上下班", "开放机关单位停车位共享"],
    ),
    "养老服务": (
        ["{place}老年人越来越多，社区养老服务跟不上", "独居老人吃饭难、看护难", "养老机构床位紧张、收费偏高"],
        [
            "多建社区老年食堂和日间照料中心",
            "发展居家养老上门服务",
            "给护理员更多培训和补贴",
            "推广适老化改造",
        ],
    ),
    "教育减负": (
        ["中小学生作业太多，睡眠不足", "校外培训负担重，家长焦虑", "课后服务内容单一，孩子放学早没人接"],
        ["控制书面作业总量", "丰富课后托管服务", "规范校外培训机构", "保障学生每天体育活动时间"],
    ),
    "营商环境": (
        ["企业办事审批流程繁琐、材料多", "中小企业融资难、融资贵", "涉企检查多，企业负担重"],
        ["推行一网通办、减少跑腿", "压缩审批时限", "清理不合理涉企收费", "设立企业诉求快速响应机制"],
    ),
    "看病就医": (
        ["{place}看病挂号难、排队时间长", "基层医院医生少、药品不全", "异地就医报销手续麻烦"],
        ["推广预约诊疗和分时段挂号", "加强社区卫生服务中心建设", "简化医保异地结算", "推进检查结果互认"],
    ),
    "垃圾分类与环境": (
        ["{place}垃圾分类投放点脏乱", "小区垃圾分类执行不到位", "河道有异味，污水直排"],
        ["增加分类投放点和督导员", "加强垃圾分类宣传", "整治入河排污口", "定期清理河道淤泥"],
    ),
}
PLACES = ["老城区", "学校门口", "火车站周边", "医院附近", "新区", "我们小区", "城东片区"]
OPENINGS = ["", "我认为", "建议：", "反映一个问题，", "作为界别群众，", "希望政府重视，"]
CLOSINGS = ["", "。", "，谢谢！", "，希望尽快解决。", "，请相关部门研究。"]


def generate(per_theme: int, seed: int = 0, themes: list[str] | None = None) -> list[tuple[str, str]]:
    """(theme, answer) pairs, per_theme answers for each theme, shuffled with a fixed seed."""
    rng = random.Random(seed)
    pairs = []
    for theme in themes or list(THEMES):
        problems, proposals = THEMES[theme]
        for _ in range(per_theme):
            problem = rng.choice(problems).format(place=rng.choice(PLACES))
            fixes = "，".join(rng.sample(proposals, rng.randint(1, 2)))
            text = f"{rng.choice(OPENINGS)}{problem}，建议{fixes}{rng.choice(CLOSINGS)}"
            pairs.append((theme, text))
    rng.shuffle(pairs)
    return pairs


_CLAUSE_END = re.compile(r"(?<=[，,。；？！])")


def recombine(labelled: Sequence[tuple[str, str]], count: int, seed: int = 0) -> list[tuple[str, str]]:
    """`count` (subject, answer) pairs made from labelled (subject, answer) pairs, for benchmarks at scale.

    Each pair picks a subject and two of its answers at random (fixed seed); seven times in ten, when both answers
    have two or more clauses, the answer is the first clause of one followed by the rest of the other (same subject,
    new wording), otherwise one of them unchanged. Subjects need two or more answers.
    """
    rng = random.Random(seed)
    by_subject: dict[str, list[str]] = {}
    for subject, text in labelled:
        by_subject.setdefault(subject, []).append(text)
    subjects = sorted(s for s, texts in by_subject.items() if len(texts) >= 2)
    out = []
    for _ in range(count):
        subject = rng.choice(subjects)
        first, second = (_CLAUSE_END.split(t, maxsplit=1) for t in rng.sample(by_subject[subject], 2))
        mix = len(first) == 2 and len(second) == 2 and all(first + second) and rng.random() < 0.7
        out.append((subject, first[0] + second[1] if mix else "".join(first)))
    return out
