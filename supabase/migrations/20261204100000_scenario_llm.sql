-- The LLM an organisation lets its tests use (issue #16): it judges `rubric` checks and plays
-- simulated callers. One catalogue LLM entry that speaks OpenAI's chat-completions protocol
-- (openai-llm, groq-llm, openrouter-llm, azure-openai-llm: the core checks which), called with
-- the organisation's stored key for that vendor and its base URL / endpoint from its pipeline
-- settings of that entry, if any. NULL = none: rubrics and simulated callers are "not run".

alter table public.organizations
  add column scenario_llm text references public.providers (key) on update cascade on delete set null,
  add column scenario_llm_model text check (char_length(scenario_llm_model) between 1 and 200);
