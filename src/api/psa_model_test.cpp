#include "api/psa_model.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

#include "multiformats/cid.hpp"

namespace cairn::api {
namespace {

namespace json = boost::json;

constexpr const char* kCid = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";

http::Request Query(const std::string& target) {
  http::Request r;
  r.method = "GET";
  EXPECT_TRUE(http::ParseTarget(target, r));
  return r;
}

TEST(ParsePinRequest, AcceptsAFullPinAndKeepsTheCidText) {
  auto p = ParsePinRequest(
      std::string(R"({"cid":")") + kCid +
      R"(","name":"a.pdf","origins":["/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"],"meta":{"app":"x"},"extra":1})");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->cid, kCid);
  EXPECT_EQ(*p->name, "a.pdf");
  EXPECT_EQ(p->origins.size(), 1u);
  EXPECT_EQ(p->meta.at("app"), "x");
  auto nulls = ParsePinRequest(std::string(R"({"cid":")") + kCid + R"(","name":null,"meta":null})");
  ASSERT_TRUE(nulls);
  EXPECT_FALSE(nulls->name);
}

TEST(ParsePinRequest, RejectsEveryViolationNamingTheField) {
  std::string long_name(256, 'n');
  struct Case {
    std::string body;
    std::string field;
  } cases[] = {
      {"not json", "malformed JSON"},
      {"[]", "JSON object"},
      {"{}", "cid: required"},
      {R"({"cid":5})", "cid: must be a string"},
      {R"({"cid":"bafyNOPE"})", "cid: invalid CID"},
      {std::string(R"({"cid":")") + kCid + R"(","name":")" + long_name + "\"}", "name: longer"},
      {std::string(R"({"cid":")") + kCid + R"(","origins":"x"})", "origins: must be an array"},
      {std::string(R"({"cid":")") + kCid + R"(","origins":["nope"]})", "not a multiaddr"},
      {std::string(R"({"cid":")") + kCid +
           R"(","origins":["/ip4/1.1.1.1/tcp/1/http","/ip4/1.1.1.1/tcp/1/http"]})",
       "duplicate"},
      {std::string(R"({"cid":")") + kCid + R"(","meta":{"k":1}})",
       "meta.k: value must be a string"},
      {std::string(R"({"cid":")") + kCid + R"(","meta":[]})", "meta: must be a JSON object"},
  };
  for (const auto& c : cases) {
    auto p = ParsePinRequest(c.body);
    ASSERT_FALSE(p) << c.body;
    EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(p.error().message().find(c.field), std::string::npos)
        << c.body << " -> " << p.error().message();
  }
}

TEST(ParseListQuery, ParsesEveryFilter) {
  auto q = ParseListQuery(
      Query(std::string("/pins?cid=") + kCid + "," + kCid +
            "&name=Doc&match=ipartial&status=queued,pinning&before=2020-07-27T17:32:28.276Z"
            "&after=2020-07-27T17:32:28Z&limit=1000&meta=%7B%22app%22%3A%22x%22%7D"));
  ASSERT_TRUE(q) << q.error().ToString();
  const auto& f = q->filter;
  EXPECT_EQ(f.cids.size(), 1u);  // duplicates collapse
  EXPECT_EQ(*f.name, "Doc");
  EXPECT_EQ(f.match, metadata::NameMatch::kIpartial);
  EXPECT_EQ(f.statuses.size(), 2u);
  EXPECT_EQ(*f.before_us - *f.after_us, 276000);
  EXPECT_EQ(f.limit, 1000);
  EXPECT_EQ(f.meta.at("app"), "x");
  EXPECT_FALSE(q->no_filters);
}

TEST(ParseListQuery, NoFilterMeansPinnedOnlyAndLimitIsNotAFilter) {
  auto q = ParseListQuery(Query("/pins?limit=5&match=exact"));
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->no_filters);
  EXPECT_EQ(q->filter.limit, 5);
}

TEST(ParseListQuery, RejectsBadParameters) {
  for (std::string t : std::vector<std::string>{
           "/pins?limit=0", "/pins?limit=1001", "/pins?limit=abc", "/pins?status=done",
           "/pins?before=yesterday", "/pins?after=2020-13-01T00:00:00Z", "/pins?match=fuzzy",
           "/pins?meta=%7Bbad", "/pins?cid=notacid", "/pins?cid=" + std::string(kCid) + ",",
           "/pins?meta=%5B%5D"}) {
    auto q = ParseListQuery(Query(t));
    EXPECT_FALSE(q) << t;
  }
  std::string many = "/pins?cid=";
  for (int i = 0; i < 11; ++i) {
    auto c = multiformats::Cid::Compute(1, 0x55, 0x12, AsBytes(std::to_string(i)));
    many += (i ? "," : "") + c->ToString();
  }
  EXPECT_FALSE(ParseListQuery(Query(many)));
}

TEST(ParseEventsQuery, DefaultsAndBounds) {
  auto q = ParseEventsQuery(Query("/pins/x/events"));
  ASSERT_TRUE(q.has_value());
  EXPECT_FALSE(q->after.has_value());
  EXPECT_EQ(q->limit, 100u);
  q = ParseEventsQuery(Query("/pins/x/events?limit=5&after=42"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->after, std::optional<int64_t>(42));
  EXPECT_EQ(q->limit, 5u);
  for (const char* bad : {"?limit=0", "?limit=1001", "?after=-1", "?after=x", "?after=4x"}) {
    auto r = ParseEventsQuery(Query(std::string("/pins/x/events") + bad));
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(Render, PinEventsCarryTheCursorOnlyWhenMoreFollow) {
  std::vector<metadata::EventRecord> events = {
      {7, "created", {{"cid", "bafy\"q"}}, 1'000'000},
      {9, "deal_active", {{"deal_id", "12"}, {"provider", "t01000"}}, 2'000'000}};
  auto more = json::parse(RenderPinEvents(events, true));
  EXPECT_EQ(more.at("next").as_string(), "9");
  const auto& results = more.at("results").as_array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].at("id").as_string(), "7");
  EXPECT_EQ(results[0].at("type").as_string(), "created");
  EXPECT_EQ(results[0].at("created").as_string(), "1970-01-01T00:00:01.000000Z");
  EXPECT_EQ(results[0].at("details").at("cid").as_string(), "bafy\"q");
  EXPECT_EQ(results[1].at("details").at("deal_id").as_string(), "12");
  auto last = json::parse(RenderPinEvents(events, false));
  EXPECT_FALSE(last.as_object().contains("next"));
  EXPECT_EQ(json::parse(RenderPinEvents({}, false)).at("results").as_array().size(), 0u);
}

TEST(Rfc3339, RoundTripsMicrosecondsAndAppliesOffsets) {
  auto t = ParseRfc3339("2020-07-27T17:32:28.276123Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339(*t), "2020-07-27T17:32:28.276123Z");
  EXPECT_EQ(*ParseRfc3339("2020-07-27T19:32:28.276123+02:00"), *t);
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:01.123456789Z"), 1123456);
  EXPECT_FALSE(ParseRfc3339("2020-07-27 17:32:28Z"));
  EXPECT_FALSE(ParseRfc3339("2020-07-27T17:32:28"));
  EXPECT_FALSE(ParseRfc3339("2020-02-30T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2020-07-27T17:32:28.Z"));
}

TEST(Render, PinStatusHasNoNullsAndEchoesTheCid) {
  metadata::PinRecord p;
  p.requestid = "r1";
  p.status = metadata::PinStatus::kPinned;
  p.created_us = 1595871148276123;
  p.cid_text = kCid;
  std::string j = RenderPinStatus(p, {"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW"});
  EXPECT_EQ(j.find("null"), std::string::npos) << j;
  EXPECT_NE(j.find("\"cid\":\"" + std::string(kCid) + "\""), std::string::npos);
  EXPECT_NE(j.find("\"origins\":[]"), std::string::npos);
  EXPECT_NE(j.find("\"meta\":{}"), std::string::npos);
  EXPECT_NE(j.find("\"info\":{}"), std::string::npos);
  EXPECT_NE(j.find("\"status\":\"pinned\""), std::string::npos);
  EXPECT_NE(j.find("\"delegates\":[\"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW\"]"), std::string::npos);
  EXPECT_NE(j.find("\"created\":\"2020-07-27T17:32:28.276123Z\""), std::string::npos);
  EXPECT_EQ(RenderPinResults(0, {}, {}), "{\"count\":0,\"results\":[]}");
}

// The hand-written renderer must produce what a JSON library reads back as the same values,
// whatever bytes the strings hold (quotes, backslashes, control characters, UTF-8).
TEST(Render, PinStatusParsesBackToTheRecord) {
  std::mt19937 rng(20261130);
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           "\"",
                                           "\\",
                                           "/",
                                           "\n",
                                           "\t",
                                           std::string(1, '\x01'),
                                           std::string(1, '\x1f'),
                                           "\x7f",
                                           "\u00e9",
                                           "\u2603",
                                           "\U0001F600",
                                           " ",
                                           "{",
                                           "]",
                                           ","};
  auto random_string = [&] {
    std::string s;
    for (int n = static_cast<int>(rng() % 6); n > 0; --n) s += pieces[rng() % pieces.size()];
    return s;
  };
  for (int round = 0; round < 300; ++round) {
    metadata::PinRecord p;
    p.requestid = random_string();
    p.status = static_cast<metadata::PinStatus>(rng() % 4);
    p.created_us = static_cast<int64_t>(rng() % 4000000000ull) * 1000000 + rng() % 1000000;
    p.cid_text = random_string();
    if (rng() % 2) p.name = random_string();
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) p.origins.push_back(random_string());
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) p.meta[random_string()] = random_string();
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) p.info[random_string()] = random_string();
    std::vector<std::string> delegates;
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) delegates.push_back(random_string());

    std::string text = RenderPinStatus(p, delegates);
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    ASSERT_FALSE(ec) << text;
    const auto& o = v.as_object();
    EXPECT_EQ(o.at("requestid").as_string(), p.requestid);
    EXPECT_EQ(o.at("status").as_string(), metadata::PinStatusName(p.status));
    EXPECT_EQ(o.at("created").as_string(), FormatRfc3339(p.created_us));
    const auto& pin = o.at("pin").as_object();
    EXPECT_EQ(pin.at("cid").as_string(), p.cid_text);
    EXPECT_EQ(pin.contains("name"), p.name.has_value());
    if (p.name) {
      EXPECT_EQ(pin.at("name").as_string(), *p.name);
    }
    auto strings = [](const boost::json::value& a) {
      std::vector<std::string> out;
      for (const auto& x : a.as_array()) out.emplace_back(x.as_string());
      return out;
    };
    auto map = [](const boost::json::value& m) {
      std::map<std::string, std::string> out;
      for (const auto& [k, x] : m.as_object()) out[std::string(k)] = std::string(x.as_string());
      return out;
    };
    EXPECT_EQ(strings(pin.at("origins")), p.origins);
    EXPECT_EQ(map(pin.at("meta")), p.meta);
    EXPECT_EQ(strings(o.at("delegates")), delegates);
    EXPECT_EQ(map(o.at("info")), p.info);

    std::string page = RenderPinResults(7, {p, p}, delegates);
    boost::json::value pv = boost::json::parse(page, ec);
    ASSERT_FALSE(ec) << page;
    EXPECT_EQ(pv.at("count").as_int64(), 7);
    ASSERT_EQ(pv.at("results").as_array().size(), 2u);
    EXPECT_EQ(pv.at("results").as_array()[1], v);
  }
}

}  // namespace
}  // namespace cairn::api
