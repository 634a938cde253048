package addir_test
import ("context";"testing";"time";"github.com/idbridge/idbridge/internal/addir")
func TestTiming(t *testing.T){
 t0:=time.Now(); _,err:=addir.Build(context.Background(), addir.FromEnv(t), "idbridge-addir-realistic", addir.Realistic()); t.Log(err, time.Since(t0))
}
