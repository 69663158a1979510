"""Synthetic, valid input records for the benchmarks: never real people.

ID numbers use real region codes (python-stdnum's list of Chinese administrative
divisions, ``stdnum/cn/loc.dat``) that existed in the birth year, a real birth
date and the GB 11643 check digit; every one is checked with ``stdnum.cn.ric``
before use.  Names, addresses and phone numbers are plausible combinations.
The generator is seeded, so a run is repeatable.
"""
from __future__ import annotations

import csv
import datetime
import random
import re
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽峰志国建文辉力明永健世广海山仁波宁贵福生龙元全胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
ROADS = "人民 建设 解放 中山 文化 新华 和平 胜利 光明 工业 滨河 车站 迎宾 团结 振兴".split()
NATIONS = ["汉族"] * 12 + ["回族", "满族", "蒙古族", "壮族"]
_REGION = re.compile(r'^\s+(\d{4}) county="([^"]*)"')


def region_codes() -> list[tuple[str, str, int]]:
    """(six-digit code, place name, first year it exists) of every county-level code."""
    import stdnum
    source = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    codes, province, prefix = [], "", ""
    for line in source.read_text(encoding="utf-8").splitlines():
        if line[:2].isdigit():
            prefix, province = line[:2], line.split('"')[1]
            continue
        match = _REGION.match(line)
        if not match or match.group(1).endswith("00"):
            continue
        last = match.group(2).split(",")[-1]  # the latest name of the code
        since = re.match(r"\[(\d{4})?-(\d{4})?\](.*)", last)
        if since and since.group(2):
            continue  # abolished: only valid for old birth years
        name = since.group(3) if since else last
        if name == "市辖区":
            continue  # a city's own districts: no place to write in an address
        codes.append((prefix + match.group(1), province + name, int(since.group(1) or 0) if since else 0))
    return codes


class Synth:
    """Seeded generator of people and units."""

    def __init__(self, seed: int = 2024):
        self.random = random.Random(seed)
        self.regions = region_codes()

    def name(self) -> str:
        r = self.random
        return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))

    def person_id(self) -> tuple[str, datetime.date, str]:
        """A valid resident ID: (number, birth date, 男/女)."""
        from stdnum.cn import ric
        r = self.random
        while True:
            code, _, since = r.choice(self.regions)
            birth = datetime.date(max(1950, since + 1), 1, 1) + datetime.timedelta(days=r.randrange(365 * 50))
            if birth.year > 2005:
                continue
            order = r.randrange(1, 1000)
            body = f"{code}{birth:%Y%m%d}{order:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if ric.is_valid(number):
                return number, birth, "男" if order % 2 else "女"

    def phone(self) -> str:
        r = self.random
        return f"1{r.choice('3456789')}{r.randrange(10**9):09d}"

    def address(self) -> str:
        r = self.random
        _, place, _ = r.choice(self.regions)
        return f"{place}{r.choice(ROADS)}路{r.randrange(1, 300)}号"

    def date(self, start: int = 2015, end: int = 2024) -> str:
        r = self.random
        day = datetime.date(start, 1, 1) + datetime.timedelta(days=r.randrange(365 * (end - start)))
        return day.isoformat()


YIDI_COLUMNS = ["姓名", "性别", "险种", "人员类别", "登记类别", "身份证件号码", "参保地联系地址",
                "就医地联系地址", "联系电话1", "联系电话2", "转往省（市、区）", "地区(市、州)", "县（区）",
                "签名人", "填表日期"]
ROSTER_COLUMNS = ["单位名称", "单位编码", "险种", "姓名", "性别", "民族", "身份证件号码", "参加工作时间",
                  "申报工资（元/月）", "增加", "手机号码", "填报人", "联系电话", "填报日期"]


def yidi_rows(count: int, seed: int = 2024):
    """Rows for 表7 (河南省异地就医登记备案表), one person each."""
    s = Synth(seed)
    r = s.random
    for _ in range(count):
        number, _, gender = s.person_id()
        yield [s.name(), gender, r.choice(["职工医保", "城乡居民医保"]),
               r.choice(["异地安置退休人员", "异地长期居住人员", "长驻异地工作人员", "异地转诊人员"]),
               r.choice(["新增", "变更"]), number, s.address(), s.address(), s.phone(), s.phone(),
               r.choice(["北京市", "上海市", "广东省", "江苏省", "海南省"]), r.choice(["广州市", "南京市", "三亚市"]),
               r.choice(["天河区", "鼓楼区", "吉阳区"]), "本人", s.date()]


def roster_rows(count: int, seed: int = 2024, per_unit: int = 40):
    """Rows for 表2 (职工基本医疗保险参保登记表): ``count`` people, ``per_unit`` per employer."""
    s = Synth(seed)
    r = s.random
    unit = None
    for index in range(count):
        if index % per_unit == 0:
            unit = [f"{s.address()[:6]}{r.choice(ROADS)}实业有限公司第{index // per_unit + 1}分公司",
                    f"41{r.randrange(10**8):08d}", "职工基本医疗保险", s.name(), s.phone(), s.date(2024, 2025)]
        number, birth, gender = s.person_id()
        started = birth.replace(year=birth.year + 20, day=1).isoformat()
        yield [*unit[:3], s.name(), gender, r.choice(NATIONS), number, started,
               str(r.randrange(2500, 15000)), "是", s.phone(), *unit[3:]]


def write_csv(path: Path, header: list[str], rows) -> Path:
    """UTF-8 with BOM, as Excel on Windows writes "CSV UTF-8"."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
