"""The bundled rules on new wording of the general kinds of attack and contact ads.

The sentences are invented for this file (not taken from the dev or held-out corpora):
each family is a rule *kind*, so a fresh phrasing of it must be judged the same way,
and the hard negatives next to it must stay clean.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.config import BUNDLED_RULES
from bot.engine import Engine, load_rules
from bot.events import Message, MessageType, Sender

T0 = datetime(2026, 11, 23, 21, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_rules(BUNDLED_RULES))


def categories(engine: Engine, text: str, n: int) -> set[str]:
    m = Message(
        id=f"g{n}",
        room_id="r-gen",
        room_topic="周末徒步爱好者群",
        sender_id=f"wxid_gen{n}",
        at=T0 + timedelta(minutes=5 * n),
        type=MessageType("text"),
        text=text,
    )
    return {v.category for v in engine.evaluate(m, Sender(m.sender_id))}


ABUSE = {
    "contempt noun at 你": "你们这群废物，路线都规划不明白",
    "contempt noun after @mention": "@徒步-阿强 白痴吧，集合时间都记不住",
    "contempt noun at 楼上": "楼上蠢货，地图都不会看",
    "你这号人 + 活该": "你这号人活该没人组队",
    "就你这…还…": "就你这体能还想走夜路？",
    "凭你那…也配": "凭你那点经验也配当领队",
    "你们滚": "你们都滚出去，别在这丢人",
    "threat: 有种出来": "有种你出来，别躲在群里",
    "threat: 堵你": "下次活动我在山脚下堵你",
    "threat: 给我等着": "你给我等着，这事没完",
    "doxxing in plain words": "再说一句，我把你家住址发到群里",
    "开你的盒": "信不信我开你的盒",
    "collective + contempt": "你们那群跟屁虫真是没脑子",
}

ADS = {
    "words between alias and handle": "户外装备团购，加我vx看实物：hike_gear77",
    "@mention does not exempt a pitch": "@小蒋 加我微信领登山杖优惠券：gear_vip99",
    "our product + trial hook": "脚踝容易扭的可以了解一下我们的护踝，免费试用三天",
    "referral for a fee in other words": "帮你内推国企，每人收2000元服务费",
}

BANNED = {
    "lending a payment code with words between": "有闲置的可以出租家里人的支付宝收款码，一天一百",
    "fake documents": "各种证件都能做，驾驶证学位证，高仿带芯片",
    "alarming rumour pushed for forwarding": "紧急提醒！景区有人用迷药迷晕游客偷东西，大家转发",
    "leak priced per copy": "出某公司内部薪资职级表，30元一份",
}

CLEAN = {
    "swearing at a thing": "卧槽，这破导航真垃圾",
    "criticism of an idea": "你这个路线有问题，坡度太大了",
    "self-deprecation": "我真是个白痴，头灯又忘带了",
    "你等着 as waiting": "你等着，我十分钟就到",
    "traffic jam": "高速堵车，大家晚点出发",
    "medical 有病": "你家老人有病就别勉强去爬山了，先看医生",
    "contact on request with @": "@老杨 你加我吧，微信：yang_hike2020",
    "address for a parcel": "把你的地址发我一下，护膝寄给你",
    "scroll wheel": "你滚一下鼠标滚轮就看到了",
    "clown costume": "你们队的小丑服装真好看",
    "waste handling": "你们厂的危险废物是外包处置的吗",
    "praise with 就你们这": "就你们这配速也能拿前三，太强了",
    "waiting for a drink": "你们都给我等着，我去买水",
    "a sport challenge": "周六出来单挑乒乓球",
    "virus": "你是不是有病毒感冒了，多喝水",
    "reporting an ad": "刚才那条包过的是广告吧，群主处理一下",
    "asking which one": "包过的培训班是哪家？想给表妹报",
    "delivery 同城上门": "同城上门取件，下午两点前下单当天到",
    "warning about lending cards": "千万别出借银行卡，会被冻结",
    "asking about an ID card": "办理身份证要带什么材料？",
    "debunked rumour": "人贩子抢孩子那条是谣言，别再转发了",
}


@pytest.mark.parametrize("text", ABUSE.values(), ids=ABUSE.keys())
def test_new_wording_of_an_attack_is_abuse(engine: Engine, text: str) -> None:
    assert "abuse" in categories(engine, text, hash(text) % 1000)


@pytest.mark.parametrize("text", ADS.values(), ids=ADS.keys())
def test_new_wording_of_a_contact_ad_is_an_ad(engine: Engine, text: str) -> None:
    assert "ad" in categories(engine, text, hash(text) % 1000)


@pytest.mark.parametrize("text", BANNED.values(), ids=BANNED.keys())
def test_new_wording_of_a_banned_topic_is_banned(engine: Engine, text: str) -> None:
    assert "banned_topic" in categories(engine, text, hash(text) % 1000)


@pytest.mark.parametrize("text", CLEAN.values(), ids=CLEAN.keys())
def test_hard_negatives_stay_clean(engine: Engine, text: str) -> None:
    assert categories(engine, text, hash(text) % 1000) == set()
