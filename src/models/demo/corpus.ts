/**
 * The built-in training text for the demo tokenizer's merges: plain English about the project, chat turns and
 * JSON objects shaped like the structured outputs and tool calls the chat layer constrains. Mixing them makes
 * merges such as `{"`, `":`, `",` and ` "` common, so the constrained decoder meets tokens that straddle grammar
 * boundaries exactly as it does with real vocabularies. Changing this text changes every demo model.
 */
export const tokenizerCorpus: readonly string[] = [
  'The quick brown fox jumps over the lazy dog. The dog sleeps in the sun and the fox runs into the woods.',
  'You are a helpful assistant. Answer the question of the user in a short and friendly way.',
  'What is the weather like in Paris today? It is sunny with a light wind and the temperature is 21 degrees.',
  'Please return the answer as JSON with the name, the age and the list of tags of the person.',
  'The model reads the image and describes what it sees: a red car parked in front of a small house.',
  'Hello! How can I help you today? I would like to book a table for two people at seven in the evening.',
  'The function returns an object with the fields id, name, price and stock. Call it with a product id.',
  'This is a test of the tokenizer. It should split common words and punctuation into a few tokens.',
  'Developers use the API to get structured data from text and images, with output that matches a schema.',
  'The cat sat on the mat. The man and the woman walked to the station in the rain.',
  'There are three apples, four oranges and twelve grapes on the table in the kitchen.',
  'Summarise the following text in one sentence and list the key points as an array of strings.',
  '{"name": "Ada Lovelace", "age": 36, "tags": ["math", "poetry"], "active": true}',
  '{"name": "Alan Turing", "age": 41, "tags": ["logic", "computing"], "active": false}',
  '{"city": "Paris", "country": "France", "temperature": 21.5, "unit": "celsius", "sunny": true}',
  '{"id": 42, "title": "The quick brown fox", "done": false, "priority": "high", "notes": null}',
  '{"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name"]}',
  '{"items": [{"id": 1, "price": 9.99, "stock": 3}, {"id": 2, "price": 19.5, "stock": 0}], "total": 2}',
  '{"answer": "yes", "confidence": 0.87, "reasons": ["the text says so", "the image shows it"]}',
  '{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}',
  '{"name": "search_products", "arguments": {"query": "red shoes", "max_results": 5}}',
  '{"name": "book_table", "arguments": {"people": 2, "time": "19:00", "date": "2025-06-01"}}',
  '{"role": "user", "content": "What is the weather in Paris?"}',
  '{"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function"}]}',
  '{"error": {"message": "The model does not exist", "type": "invalid_request_error", "code": null}}',
  '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]',
  '["red", "green", "blue", "yellow", "black", "white"]',
  '{"a": 1, "b": 2, "c": {"d": [true, false, null], "e": "f"}}',
];
