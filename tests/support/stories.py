"""Hand-written articles for story tests: one event told by four outlets, and unrelated news."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DAY0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

BRIDGE = [
    ("Harbour Bridge shut for a week after cracks found in main span",
     "Engineers closed the Harbour Bridge in Port Elster on Tuesday after inspectors found cracks in two steel "
     "girders of its main span. The bridge carries about 48,000 vehicles a day and will stay shut for at least "
     "seven days, the regional transport authority said. Mayor Ilse Brandt asked commuters to use the harbour "
     "ferries, which will run every ten minutes at no charge while the crossing is closed. The cracks were found "
     "during a routine inspection on Monday night. Trucks will be sent around the bay on the coastal road, adding "
     "about forty minutes to the trip. Schools on the northern shore said classes would start later this week."),
    ("Port Elster commuters face detours as cracked Harbour Bridge closes",
     "Drivers in Port Elster faced long detours on Tuesday after the Harbour Bridge was closed when inspectors "
     "discovered cracks in two steel girders. The regional transport authority said the span, used by roughly "
     "48,000 vehicles every day, would remain closed for a week or more. Mayor Ilse Brandt said the harbour "
     "ferries would be free and run every ten minutes until the bridge reopens. Lorries are being diverted along "
     "the coastal road around the bay. Engineers will decide by Friday whether the girders can be repaired."),
    ("Inspectors find cracked girders in Harbour Bridge; crossing closed for seven days",
     "A routine inspection of the Harbour Bridge on Monday night found cracks in two of the steel girders that "
     "hold up the main span, and the crossing in Port Elster was closed on Tuesday morning. The regional transport "
     "authority expects the closure to last at least seven days. About 48,000 vehicles use the bridge daily. "
     "Mayor Ilse Brandt announced free ferries every ten minutes across the harbour. Heavy goods traffic is "
     "being routed along the coastal road, and the northern shore schools have delayed their morning classes."),
    ("Cracked Harbour Bridge to stay closed as engineers test the steel girders",
     "The Harbour Bridge in Port Elster will stay closed at least until next week while engineers test the two "
     "cracked steel girders found during Monday night's inspection, the regional transport authority said on "
     "Wednesday. Mayor Ilse Brandt said the free harbour ferries, running every ten minutes, carried twice the "
     "usual number of passengers on the first day of the closure. The bridge normally carries about 48,000 "
     "vehicles a day, and lorries are still being diverted along the coastal road around the bay."),
]

OTHER = [
    ("City council approves new budget for primary schools",
     "The city council voted on Monday to raise spending on primary schools by four percent next year. The money "
     "will pay for two hundred new teaching assistants and repairs to old classrooms, the education committee "
     "said. Opposition members argued the increase did not keep up with rising rents for school buildings. The "
     "budget also funds free breakfast clubs in twelve districts. Parents groups welcomed the vote but asked for "
     "smaller classes. The plan takes effect in September after a final review by the regional government."),
    ("Rovers beat United three goals to one in rainy derby",
     "Rovers won the derby three goals to one on Saturday in heavy rain at the old stadium. Their young striker "
     "scored twice in the first half, and a late header settled the match after United had pulled one back. "
     "The away fans sang through the downpour, and the referee stopped play twice to clear water from the pitch. "
     "The win lifts Rovers to second place in the league table, two points behind the leaders. United's coach "
     "said his team had lost the ball too often in midfield and promised changes for the cup tie on Wednesday."),
    ("Museum opens exhibition of medieval maps",
     "The national museum opened an exhibition of medieval maps on Thursday, showing more than sixty charts drawn "
     "on vellum between the twelfth and fifteenth centuries. Curators spent three years restoring the fragile "
     "sheets, some of which show sea monsters in the margins and islands that never existed. Visitors can use "
     "magnifying tables to study the tiny lettering. The exhibition runs until the end of August, and entry is "
     "free on the first Sunday of every month. A catalogue with essays by historians is on sale in the shop."),
    ("Heavy snow expected in the mountains this weekend",
     "Forecasters warned of heavy snow in the mountains from Friday night, with up to forty centimetres expected "
     "above one thousand metres. Drivers were told to carry chains and to avoid the high passes unless their "
     "journey was necessary. Ski resorts welcomed the news after a dry start to the season. Avalanche risk will "
     "rise on Sunday as temperatures climb, the mountain rescue service said. Villages in the valleys may see "
     "sleet and freezing rain. The weather office will update its warnings on Saturday morning."),
]


def item(outlet: str, number: int, title: str, text: str, when: datetime) -> dict:
    return {"title": title, "link": f"https://{outlet}.example/news/{number}", "guid": f"{outlet}-{number}",
            "pubdate": when, "description": f"<p>{text}</p>"}


def outlet_items(outlet: str, index: int, *, bridge: bool = True) -> list[dict]:
    """One outlet's feed: its bridge report (when `bridge`) and one unrelated article."""
    items = [item(outlet, 100 + index, *OTHER[index], DAY0 - timedelta(hours=3 + index))]
    if bridge:
        items.insert(0, item(outlet, 1, *BRIDGE[index], DAY0 + timedelta(minutes=20 * index)))
    return items


def late_bridge_item(outlet: str, index: int = 3) -> dict:
    """The same story from another outlet, a day later."""
    return item(outlet, 2, *BRIDGE[index], DAY0 + timedelta(days=1))
