package server_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// withoutClientValidation lets an empty input reach the server: the SDK otherwise refuses
// a missing required member before sending.
func withoutClientValidation(o *gl.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		// Operations with no required member have no validation step.
		s.Initialize.Remove("OperationInputValidation")
		return nil
	})
}

// TestEveryOperationAnswers calls every operation of GameLift's model once, with an empty
// input, through the AWS SDK for Go v2: each gets a modeled answer (a result or a GameLift
// exception) or, where Hoist does not have it, UnsupportedRegionException naming it; never
// UnknownOperationException nor a server error.
func TestEveryOperationAnswers(t *testing.T) {
	ctx := context.Background()
	_, c := start(t, t.TempDir())
	cv := reflect.ValueOf(c)
	ctxType := reflect.TypeFor[context.Context]()
	optFn := reflect.ValueOf(withoutClientValidation)

	called := map[string]bool{}
	for _, op := range gamelift.ModelOperations {
		m := cv.MethodByName(op)
		if !m.IsValid() {
			t.Errorf("the AWS SDK for Go v2 has no %s", op)
			continue
		}
		mt := m.Type()
		if mt.NumIn() != 3 || mt.In(0) != ctxType || !mt.IsVariadic() {
			t.Errorf("%s: unexpected signature %s", op, mt)
			continue
		}
		in := reflect.New(mt.In(1).Elem())
		res := m.Call([]reflect.Value{reflect.ValueOf(ctx), in, optFn})
		called[op] = true
		err, _ := res[1].Interface().(error)
		if err == nil {
			continue
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: not an API error: %v", op, err)
			continue
		}
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() >= http.StatusInternalServerError {
			t.Errorf("%s: HTTP %d: %v", op, re.HTTPStatusCode(), err)
		}
		switch code := ae.ErrorCode(); {
		case code == "UnknownOperationException" || code == "InternalServiceException" || code == "InternalFailure":
			t.Errorf("%s: %s: %s", op, code, ae.ErrorMessage())
		case code == "UnsupportedRegionException":
			if !strings.Contains(ae.ErrorMessage(), "Hoist does not support "+op+":") {
				t.Errorf("%s: unsupported without saying which or why: %s", op, ae.ErrorMessage())
			}
		case !slices.Contains(gamelift.ModelErrors, code):
			t.Errorf("%s: %s is not an exception of GameLift's model: %s", op, code, ae.ErrorMessage())
		}
	}
	if len(called) != len(gamelift.ModelOperations) || len(called) < 120 {
		t.Errorf("called %d operations of %d", len(called), len(gamelift.ModelOperations))
	}
}
