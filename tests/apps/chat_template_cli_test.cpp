// tokenscope chat-template from the command line: the rendering printed exactly (no newline added), the golden
// fixture through the CLI, a model's own template and BOS/EOS, and exit 2 with the template's message when it raises.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_run.h"
#include "fixtures.h"
#include "gguf/gguf.h"

namespace ts::test {
namespace {

using Json = nlohmann::ordered_json;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ChatTemplateCli : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_dir(); }
  std::string file(const std::string& name, const std::string& content) {
    write_file(dir_ + "/" + name, content);
    return dir_ + "/" + name;
  }
  std::string dir_;
};

TEST_F(ChatTemplateCli, PrintsTheRenderingExactlyWithoutANewline) {
  const std::string tmpl = file("t.jinja",
                                "{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}\n{% endfor %}"
                                "{% if add_generation_prompt %}<assistant>{% endif %}{{ bos_token }}");
  const std::string msgs = file("m.json", R"([{"role": "user", "content": "  Hi ünï  "}])");
  CliResult r = run_cli({"chat-template", "--template", tmpl, "--messages", msgs});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<user>Hi ünï\n");
  r = run_cli({"chat-template", "--template", tmpl, "--messages", msgs, "--add-generation-prompt", "--bos-token",
               "<s>"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<user>Hi ünï\n<assistant><s>");
}

TEST_F(ChatTemplateCli, ARequestBodysOtherKeysBecomeTemplateVariables) {
  const std::string tmpl = file("t.jinja", "{{ messages|length }}:{{ tools[0].name }}:{{ enable_thinking }}");
  const std::string body = file("req.json", R"({"messages": [{"role": "user", "content": "x"}],
      "tools": [{"name": "f"}], "enable_thinking": false})");
  CliResult r = run_cli({"chat-template", "--template", tmpl, "--messages", body});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1:f:False");
}

TEST_F(ChatTemplateCli, RendersTheGoldenCasesAsJinja2Does) {
  TS_REQUIRE_FIXTURE(expected_path, "chat-templates/expected.json");
  const std::string dir = expected_path.substr(0, expected_path.rfind('/') + 1);
  const Json expected = Json::parse(read_all(expected_path));
  int checked = 0;
  for (const Json& c : expected["cases"]) {
    // Templates that do not call strftime_now(): the CLI renders with the real clock.
    const std::string name = c["template"];
    if (read_all(dir + name).find("strftime_now") != std::string::npos) continue;
    if (c["conversation"] != 3 && c["conversation"] != 1) continue;  // two conversations keep the test quick
    SCOPED_TRACE(name + " conversation " + c["conversation"].dump());
    const std::string msgs = file("m.json", c["messages"].dump());
    std::vector<std::string> args = {"chat-template", "--template", dir + name, "--messages", msgs,
                                     "--bos-token", c["bos_token"], "--eos-token", c["eos_token"]};
    if (c["add_generation_prompt"].get<bool>()) args.push_back("--add-generation-prompt");
    CliResult r = run_cli(args);
    if (c.contains("expected")) {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.out, c["expected"].get<std::string>());
    } else {
      EXPECT_EQ(r.exit_code, 2);
      EXPECT_EQ(r.out, "");
      EXPECT_NE(r.err.find("System role not supported"), std::string::npos) << r.err;
    }
    ++checked;
  }
  EXPECT_GE(checked, 24);  // 6 of the 10 templates do not read the clock, 2 conversations x 2 prompts each
}

TEST_F(ChatTemplateCli, ARaisingTemplateExitsTwoWithItsMessageAndLine) {
  const std::string tmpl = file("t.jinja", "ok\n{% if messages[0].role == 'system' %}"
                                           "{{ raise_exception('System role not supported') }}{% endif %}");
  const std::string msgs = file("m.json", R"([{"role": "system", "content": "x"}])");
  CliResult r = run_cli({"chat-template", "--template", tmpl, "--messages", msgs});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("line 2: System role not supported"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;  // one line
}

TEST_F(ChatTemplateCli, UsesTheModelsTemplateAndSpecialTokens) {
  gguf::Writer w;
  w.add_string("general.architecture", "llama");
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string_array("tokenizer.ggml.tokens", {"<|endoftext|>", "<|im_start|>", "<|im_end|>"});
  w.add_u32("tokenizer.ggml.bos_token_id", 1);
  w.add_u32("tokenizer.ggml.eos_token_id", 2);
  w.add_string("tokenizer.chat_template", "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}");
  const std::string model = dir_ + "/vocab.gguf";
  ASSERT_TRUE(w.write(model).ok());
  const std::string msgs = file("m.json", R"([{"role": "user", "content": "hey"}])");
  CliResult r = run_cli({"chat-template", "-m", model, "--messages", msgs});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>hey<|im_end|>");
  r = run_cli({"chat-template", "-m", model, "--messages", msgs, "--eos-token", "</s>"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>hey</s>");
}

TEST_F(ChatTemplateCli, BadInputGivesOneLineAndExitTwo) {
  const std::string tmpl = file("t.jinja", "{% for m in messages %}");
  const std::string msgs = file("m.json", R"([])");
  const std::string bad = file("bad.json", "{not json");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"chat-template", "--template", tmpl, "--messages", msgs},                 // unterminated for
           {"chat-template", "--template", dir_ + "/none.jinja", "--messages", msgs},  // missing file
           {"chat-template", "--template", tmpl, "--messages", bad},                  // not JSON
           {"chat-template", "--messages", msgs},                                     // no template at all
       }) {
    CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args[2] << ": " << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

}  // namespace
}  // namespace ts::test
