"""Static vocabulary of the demo city: service types, channels, names, streets.

Everything here is fixed (independent of the seed) so that the planted
parameters recorded in ``truth.json`` are easy to read and compare across
seeds.  The random parts of the city (geometry jitter, populations, which
areas are slow or hot spots) live in :mod:`ridp.demo._city`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

CITY_NAME = "Port Alder"

#: First and last calendar day of request history (inclusive).
START_DATE = date(2019, 1, 1)
END_DATE = date(2024, 12, 31)

#: Bounding box of the city: (min_lon, min_lat, max_lon, max_lat), WGS84.
BBOX = (-71.2, 42.2, -70.9, 42.45)
GRID_COLUMNS = 8
GRID_ROWS = 5

#: Seasonality: volume multiplier ``1 + A * cos(2*pi*(t - t_peak)/365.25)``.
SEASONAL_AMPLITUDE = 0.25
SEASONAL_PEAK_DAY_OF_YEAR = 196  # 15 July in a non-leap year

#: Smooth growth of total volume per year (multiplicative).
ANNUAL_GROWTH = 0.04

#: Day-of-week volume multipliers, Monday first.
WEEKDAY_FACTORS = (1.18, 1.12, 1.08, 1.06, 1.0, 0.8, 0.76)

#: The planted level change.
LEVEL_CHANGE_SERVICE = "Missed Trash Pickup"
LEVEL_CHANGE_DATE = date(2022, 7, 1)
LEVEL_CHANGE_FACTOR = 1.6

#: Hot spots: per-capita request-rate multiplier of the hot-spot areas.
HOT_SPOT_RATE_MULTIPLIER = 2.0
HOT_SPOT_COUNT = 3
#: Non-hot-spot areas get a rate multiplier drawn uniformly from this range.
BASE_RATE_MULTIPLIER_RANGE = (0.85, 1.15)

#: Closure-time multipliers: a few clearly slow areas and a few fast ones.
SLOW_AREA_COUNT = 4
SLOW_MULTIPLIER_RANGE = (1.8, 2.2)
FAST_AREA_COUNT = 3
FAST_MULTIPLIER_RANGE = (0.6, 0.72)
NORMAL_MULTIPLIER_RANGE = (0.92, 1.08)

#: Probability that a request is stuck in the backlog (never closed):
#: ``base + recent * exp(-age_days / decay_days)``, age measured at the export,
#: so recent requests are more often open (old backlog gets cleaned up).
STUCK_BASE_PROBABILITY = 0.003
STUCK_RECENT_PROBABILITY = 0.05
STUCK_DECAY_DAYS = 270.0
#: Status of open requests: "Open" with this probability, else "In Progress".
OPEN_STATUS_SHARE = 0.6

STATUSES = ("Closed", "Open", "In Progress")
PRIORITIES = ("Low", "Medium", "High")


@dataclass(frozen=True)
class ServiceType:
    """One kind of 311 request.

    Parameters
    ----------
    name : str
        Value of the ``service_name`` column.
    agency : str
        Responsible department (``agency`` column).
    share : float
        Share of all requests before the level change.
    median_days : float
        Median of the lognormal days-to-close in an area with multiplier 1.
    sigma : float
        Log-scale standard deviation of days-to-close.
    p_high : float
        Probability of priority ``High``.
    p_low : float
        Probability of priority ``Low`` (the rest are ``Medium``).
    descriptions : tuple of str
        Free-text descriptions a resident might type.
    """

    name: str
    agency: str
    share: float
    median_days: float
    sigma: float
    p_high: float
    p_low: float
    descriptions: tuple[str, ...]


SERVICE_TYPES: tuple[ServiceType, ...] = (
    ServiceType(
        name="Missed Trash Pickup",
        agency="Sanitation",
        share=0.13,
        median_days=1.5,
        sigma=0.8,
        p_high=0.05,
        p_low=0.35,
        descriptions=(
            "Trash not collected on scheduled day",
            "Recycling bin skipped, trash taken",
            "Whole street missed this week",
            "Bins still full after pickup day",
        ),
    ),
    ServiceType(
        name="Pothole Repair",
        agency="Public Works",
        share=0.11,
        median_days=4.0,
        sigma=1.0,
        p_high=0.25,
        p_low=0.15,
        descriptions=(
            "Large pothole in travel lane",
            "Pothole near crosswalk, cars swerving",
            "Several potholes on block",
            "Deep pothole by the bus stop",
        ),
    ),
    ServiceType(
        name="Streetlight Out",
        agency="Transportation",
        share=0.08,
        median_days=6.0,
        sigma=0.9,
        p_high=0.15,
        p_low=0.3,
        descriptions=(
            "Streetlight out in front of house",
            "Light flickering all night",
            "Two lights out on the same pole line",
        ),
    ),
    ServiceType(
        name="Graffiti Removal",
        agency="Public Works",
        share=0.06,
        median_days=9.0,
        sigma=1.0,
        p_high=0.05,
        p_low=0.55,
        descriptions=(
            "Graffiti on utility box",
            "Tagging on wall facing the park",
            "Offensive graffiti on bus shelter",
        ),
    ),
    ServiceType(
        name="Illegal Dumping",
        agency="Sanitation",
        share=0.07,
        median_days=3.0,
        sigma=0.9,
        p_high=0.15,
        p_low=0.25,
        descriptions=(
            "Mattress dumped on sidewalk",
            "Pile of construction debris in alley",
            "Tires left by the curb",
            "Bags of trash dumped, blocking path",
        ),
    ),
    ServiceType(
        name="Noise Complaint",
        agency="Police",
        share=0.08,
        median_days=0.15,
        sigma=1.0,
        p_high=0.2,
        p_low=0.2,
        descriptions=(
            "Loud music late at night",
            "Construction noise before 7am",
            "Party noise, ongoing",
        ),
    ),
    ServiceType(
        name="Rodent Activity",
        agency="Inspectional Services",
        share=0.05,
        median_days=12.0,
        sigma=0.9,
        p_high=0.2,
        p_low=0.2,
        descriptions=(
            "Rats seen in alley behind restaurant",
            "Rodent burrows in yard",
            "Rats around dumpsters",
        ),
    ),
    ServiceType(
        name="Abandoned Vehicle",
        agency="Transportation",
        share=0.06,
        median_days=8.0,
        sigma=1.0,
        p_high=0.05,
        p_low=0.45,
        descriptions=(
            "Car with flat tires not moved in weeks",
            "Vehicle with no plates",
            "Abandoned van, windows broken",
        ),
    ),
    ServiceType(
        name="Sidewalk Repair",
        agency="Public Works",
        share=0.04,
        median_days=40.0,
        sigma=1.1,
        p_high=0.15,
        p_low=0.4,
        descriptions=(
            "Raised sidewalk slab, trip hazard",
            "Broken curb ramp",
            "Sidewalk cracked and uneven",
        ),
    ),
    ServiceType(
        name="Tree Maintenance",
        agency="Parks & Forestry",
        share=0.05,
        median_days=25.0,
        sigma=1.2,
        p_high=0.2,
        p_low=0.35,
        descriptions=(
            "Dead tree limb hanging over street",
            "Tree roots lifting sidewalk",
            "Request tree pruning",
            "Fallen branch blocking sidewalk",
        ),
    ),
    ServiceType(
        name="Street Cleaning",
        agency="Public Works",
        share=0.07,
        median_days=2.5,
        sigma=0.8,
        p_high=0.05,
        p_low=0.5,
        descriptions=(
            "Litter accumulating along curb",
            "Broken glass in road",
            "Leaves clogging storm drain",
        ),
    ),
    ServiceType(
        name="Parking Enforcement",
        agency="Transportation",
        share=0.1,
        median_days=0.2,
        sigma=0.9,
        p_high=0.2,
        p_low=0.3,
        descriptions=(
            "Car blocking driveway",
            "Vehicle parked in bike lane",
            "Double parked truck, every morning",
        ),
    ),
    ServiceType(
        name="Traffic Signal Repair",
        agency="Transportation",
        share=0.03,
        median_days=1.0,
        sigma=1.0,
        p_high=0.6,
        p_low=0.05,
        descriptions=(
            "Signal stuck on red",
            "Pedestrian signal button broken",
            "Traffic light out at intersection",
        ),
    ),
    ServiceType(
        name="Bulk Item Pickup",
        agency="Sanitation",
        share=0.05,
        median_days=5.0,
        sigma=0.7,
        p_high=0.02,
        p_low=0.6,
        descriptions=(
            "Schedule pickup of sofa",
            "Request appliance pickup",
            "Furniture, boxes and a mattress",
        ),
    ),
    ServiceType(
        name="Housing Complaint",
        agency="Inspectional Services",
        share=0.02,
        median_days=20.0,
        sigma=1.1,
        p_high=0.3,
        p_low=0.15,
        descriptions=(
            "No heat in apartment",
            "Mold in bathroom, landlord not responding",
            "Water leak from ceiling",
        ),
    ),
)

#: Intake channels and their shares of requests.
CHANNELS: tuple[tuple[str, float], ...] = (
    ("Phone", 0.38),
    ("App", 0.31),
    ("Web", 0.21),
    ("Walk-in", 0.04),
    ("Social", 0.06),
)

#: Relative request volume by hour of day (0..23), for most request types.
HOURLY_WEIGHTS = (
    0.4,
    0.25,
    0.2,
    0.15,
    0.15,
    0.3,
    0.8,
    1.6,
    2.4,
    2.8,
    2.9,
    2.8,
    2.6,
    2.6,
    2.5,
    2.3,
    2.0,
    1.7,
    1.5,
    1.3,
    1.1,
    0.9,
    0.7,
    0.5,
)
#: Relative volume by hour of day for noise complaints (they peak at night).
NOISE_HOURLY_WEIGHTS = (
    3.0,
    2.6,
    1.8,
    1.0,
    0.5,
    0.3,
    0.4,
    0.6,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.7,
    0.8,
    0.9,
    1.0,
    1.2,
    1.5,
    2.0,
    2.6,
    3.0,
    3.2,
)

NEIGHBOURHOOD_NAMES: tuple[str, ...] = (
    "Alder Point",
    "Ashgrove",
    "Bayview Heights",
    "Beacon Flats",
    "Birch Hollow",
    "Briarwood",
    "Cedar Landing",
    "Clearwater",
    "Copper Hill",
    "Crescent Park",
    "Dover Commons",
    "Eastmoor",
    "Elm Terrace",
    "Fairhaven",
    "Fenwick",
    "Glenmere",
    "Granite Square",
    "Harbourside",
    "Hawthorne",
    "Highfield",
    "Ivy Corner",
    "Juniper Vale",
    "Kestrel Green",
    "Lakeshore",
    "Linden Row",
    "Maple Crossing",
    "Millbrook",
    "North Quarry",
    "Oakmont",
    "Old Mill",
    "Pine Bluff",
    "Ravenswood",
    "Riverbend",
    "Saltmarsh",
    "South Docks",
    "Stonebridge",
    "Thornfield",
    "Upper Falls",
    "Westgate",
    "Willow Park",
)

STREET_STEMS: tuple[str, ...] = (
    "Maple",
    "Oak",
    "Elm",
    "Cedar",
    "Pine",
    "Birch",
    "Walnut",
    "Chestnut",
    "Harbor",
    "Mill",
    "Church",
    "School",
    "Union",
    "Franklin",
    "Washington",
    "Adams",
    "Lincoln",
    "Jackson",
    "Prospect",
    "Pleasant",
    "Summer",
    "Winter",
    "Spring",
    "Center",
    "High",
    "Bridge",
    "Water",
    "Market",
    "Park",
    "Hill",
    "Ridge",
    "Lake",
    "River",
    "Forest",
    "Meadow",
    "Orchard",
    "Granite",
    "Beacon",
    "Quarry",
    "Ferry",
)
STREET_SUFFIXES: tuple[str, ...] = ("St", "Ave", "Rd", "Way", "Ter", "Pl", "Ct", "Blvd")
#: Number of streets in each neighbourhood's address pool.
STREETS_PER_AREA = 12
