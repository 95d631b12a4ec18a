// The interim validate-only ingest: the ACK it gives for valid, invalid, unparseable and
// enhanced-mode messages.
#include <catch2/catch.hpp>

#include "server/test_client.h"
#include "server/validate_ingest.h"

namespace midhurst::server {
namespace {

using testing::msa_field;

TEST_CASE("validate-only ingest: a valid message gets AA echoing MSH-10", "[ingest]") {
  ValidateOnlyIngest ingest;
  std::string got;
  ingest.submit(testing::adt_message("V1"), {}, [&](std::string ack) { got = std::move(ack); });
  CHECK(msa_field(got, 1) == "AA");
  CHECK(msa_field(got, 2) == "V1");
  CHECK(msa_field(got, 3) == "validated only, not stored (interim ingest)");
  CHECK(ack_code_of(got) == "AA");
}

TEST_CASE("validate-only ingest: structural errors give AE with ERR", "[ingest]") {
  ValidateOnlyIngest ingest;
  const std::string ack = ingest.answer("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|V2|P|2.4\rpid|1\r");
  CHECK(msa_field(ack, 1) == "AE");
  CHECK(ack.find("\rERR|") != std::string::npos);
}

TEST_CASE("validate-only ingest: an unsupported version gives AR", "[ingest]") {
  ValidateOnlyIngest ingest;
  CHECK(msa_field(ingest.answer("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|V3|P|7.0\r"), 1) == "AR");
}

TEST_CASE("validate-only ingest: enhanced mode follows MSH-15", "[ingest]") {
  ValidateOnlyIngest ingest;
  CHECK(msa_field(ingest.answer("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|E1|P|2.5|||AL|NE\r"), 1) == "CA");
  CHECK(ingest.answer("MSH|^~\\&|A|B|C|D|20260101||ADT^A01|E2|P|2.5|||NE|NE\r").empty());
}

TEST_CASE("validate-only ingest: control ids are unique", "[ingest]") {
  ValidateOnlyIngest ingest;
  const std::string a = ingest.answer(testing::adt_message("U1"));
  const std::string b = ingest.answer(testing::adt_message("U1"));
  auto msh10 = [](const std::string& ack) {
    size_t at = 0;
    for (int i = 0; i < 9; ++i) at = ack.find('|', at) + 1;
    return ack.substr(at, ack.find('|', at) - at);
  };
  CHECK_FALSE(msh10(a).empty());
  CHECK(msh10(a) != msh10(b));
  CHECK(msh10(a).size() <= 20);  // v2.4 ST length of MSH-10
}

TEST_CASE("ack_code_of reads MSA-1", "[ingest]") {
  CHECK(ack_code_of("MSH|^~\\&|A\rMSA|AE|X\r") == "AE");
  CHECK(ack_code_of("MSH#^~\\&#A\rMSA#CR#X\r") == "CR");
  CHECK(ack_code_of("MSH|^~\\&|MSA|A\r") == "");
  CHECK(ack_code_of("") == "");
}

}  // namespace
}  // namespace midhurst::server
