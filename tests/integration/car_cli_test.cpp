// End-to-end tests of `cairn car export|import|ls` on the real binary (CAIRN_BINARY) with a
// temporary repo.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "car/car_reader.hpp"
#include "car/car_test_util.hpp"
#include "car/car_writer.hpp"
#include "common/testing/command.hpp"
#include "common/testing/temp_dir.hpp"

namespace cairn::car {
namespace {

namespace fs = std::filesystem;
using testing::MapGetter;

using cairn::testing::CommandResult;
using cairn::testing::ShellQuote;

class CarCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("CAIRN_BINARY");
    ASSERT_NE(bin, nullptr);
    bin_ = bin;
  }

  // Runs `cairn --repo DIR/repo ARGS` through the shell; captures stdout (stderr to DIR/err).
  CommandResult Cairn(const std::string& args) {
    return cairn::testing::RunCommand(ShellQuote(bin_) + " --repo " + ShellQuote(tmp_ / "repo") +
                                      " " + args + " 2>" + ShellQuote(tmp_ / "err"));
  }
  std::string Err() {
    std::ifstream f(dir_ / "err");
    return std::string((std::istreambuf_iterator<char>(f)), {});
  }
  fs::path Write(const std::string& name, ByteSpan data) {
    std::ofstream f(dir_ / name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    return dir_ / name;
  }
  Bytes Read(const std::string& name) {
    std::ifstream f(dir_ / name, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(f)), {});
  }

  // A small DAG exported in memory: root(pb) -> [cbor -> [leaf2], leaf1].
  Bytes SampleCar(Cid* root_out, std::vector<Cid>* cids) {
    auto leaf1 = testing::Raw("leaf one"), leaf2 = testing::Raw("leaf two");
    auto c = testing::Cbor({leaf2.cid}, 5);
    auto root = testing::Pb({c.cid, leaf1.cid}, "root");
    MapGetter getter;
    for (const auto& b : {leaf1, leaf2, c, root}) getter.Add(b);
    Bytes car;
    BytesSink sink(car);
    EXPECT_TRUE(ExportDag(root.cid, getter, sink).has_value());
    *root_out = root.cid;
    *cids = {root.cid, c.cid, leaf2.cid, leaf1.cid};
    return car;
  }

  cairn::testing::TempDir tmp_{"cairn-car-cli"};
  const fs::path dir_ = tmp_.path();
  std::string bin_;
};

TEST_F(CarCli, ImportPrintsRootsAndExportReproducesTheCar) {
  Cid root;
  std::vector<Cid> cids;
  Bytes car = SampleCar(&root, &cids);
  auto path = Write("in.car", car);
  CommandResult imp = Cairn("car import " + path.string());
  ASSERT_EQ(imp.exit_code, 0) << Err();
  EXPECT_EQ(imp.out, root.ToString() + "\n");
  CommandResult exp = Cairn("car export " + root.ToString() + " -o " + (dir_ / "out.car").string());
  ASSERT_EQ(exp.exit_code, 0) << Err();
  EXPECT_EQ(Read("out.car"), car);
  CommandResult to_stdout = Cairn("car export " + root.ToString());
  ASSERT_EQ(to_stdout.exit_code, 0) << Err();
  EXPECT_EQ(to_stdout.out, std::string(AsString(car)));
}

TEST_F(CarCli, ImportFromStdin) {
  Cid root;
  std::vector<Cid> cids;
  auto path = Write("in.car", SampleCar(&root, &cids));
  CommandResult imp = Cairn("car import - < " + path.string());
  ASSERT_EQ(imp.exit_code, 0) << Err();
  EXPECT_EQ(imp.out, root.ToString() + "\n");
  EXPECT_EQ(Cairn("block stat " + cids[2].ToString()).exit_code, 0) << Err();
}

TEST_F(CarCli, BadFileImportFailsAndStoresNothing) {
  Cid root;
  std::vector<Cid> cids;
  Bytes car = SampleCar(&root, &cids);
  car.back() ^= 1;  // the last block (leaf1) no longer matches its CID
  auto path = Write("bad.car", car);
  CommandResult imp = Cairn("car import " + path.string());
  EXPECT_NE(imp.exit_code, 0);
  EXPECT_NE(Err().find("block does not match its CID"), std::string::npos) << Err();
  EXPECT_TRUE(imp.out.empty());
  // The verify pass ran first: not even the good blocks before the bad one were stored.
  for (const auto& c : cids) EXPECT_NE(Cairn("block stat " + c.ToString()).exit_code, 0);
}

TEST_F(CarCli, LsPrintsEveryCidAndStopsAtTheFirstBadBlock) {
  Cid root;
  std::vector<Cid> cids;
  Bytes car = SampleCar(&root, &cids);
  auto good = Write("good.car", car);
  CommandResult ls = Cairn("car ls " + good.string());
  ASSERT_EQ(ls.exit_code, 0) << Err();
  std::string expected;
  for (const auto& c : cids) expected += c.ToString() + "\n";
  EXPECT_EQ(ls.out, expected);
  car.back() ^= 1;
  auto bad = Write("bad.car", car);
  CommandResult ls_bad = Cairn("car ls - < " + bad.string());
  EXPECT_NE(ls_bad.exit_code, 0);
  EXPECT_NE(Err().find("section at offset"), std::string::npos) << Err();
  CommandResult missing = Cairn("car ls " + (dir_ / "nope.car").string());
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(Err().find("cannot open"), std::string::npos);
}

TEST_F(CarCli, ExportOfMissingRootFails) {
  CommandResult exp =
      Cairn("car export bafkreifsmkenrsvn2f775w57mjv62bacujn62k57knvr3b4jjd4hnqp76a -o " +
            (dir_ / "x.car").string());
  EXPECT_NE(exp.exit_code, 0);
  EXPECT_NE(Err().find("not found"), std::string::npos) << Err();
}

}  // namespace
}  // namespace cairn::car
